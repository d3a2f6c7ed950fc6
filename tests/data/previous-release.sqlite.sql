-- The hub database of smartclass d641facf31e2 (scripts/previous_release_db.py)
BEGIN TRANSACTION;
CREATE TABLE agent_health (
	site VARCHAR(63) NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	boot VARCHAR(64) NOT NULL, 
	era INTEGER NOT NULL, 
	boot_no INTEGER NOT NULL, 
	n INTEGER NOT NULL, 
	report JSON NOT NULL, 
	clock_offset_s FLOAT, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (site, room)
);
INSERT INTO "agent_health" VALUES('thcs-nguyen-chi-thanh','6a1','b2',0,2,1,'{"ts": "2025-03-03T01:00:00Z", "boot": "b2", "boot_no": 2, "n": 1, "started_at": "2025-03-03T01:00:00Z", "last_seq": 4, "previous_boot": "b1", "previous_last_seq": 31, "outbox": {"backlog": 0, "parked": 0, "oldest_s": 0.0, "storage_ok": true, "storage_text": ""}, "losses": [], "clock_offset_s": null}',NULL,'2025-03-03 01:00:30.000000');
CREATE TABLE alert_transitions (
	id INTEGER NOT NULL, 
	alert_id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	actor VARCHAR(63) DEFAULT '' NOT NULL, 
	comment TEXT DEFAULT '' NOT NULL, 
	source VARCHAR(200), 
	data JSON NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_alert_transitions_source UNIQUE (source), 
	FOREIGN KEY(alert_id) REFERENCES alerts (id) ON DELETE CASCADE
);
INSERT INTO "alert_transitions" VALUES(1,1,'2025-03-03 01:00:31.000000','raised','','','thcs-nguyen-chi-thanh/6a1/b1/31','{}');
INSERT INTO "alert_transitions" VALUES(2,1,'2025-03-03 01:00:40.000000','acknowledged','lan','đang đến',NULL,'{}');
INSERT INTO "alert_transitions" VALUES(3,2,'2025-03-03 01:00:45.000000','raised','','',NULL,'{}');
INSERT INTO "alert_transitions" VALUES(4,2,'2025-03-03 01:00:50.000000','resolved','lan','đã sửa',NULL,'{}');
CREATE TABLE alerts (
	id INTEGER NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	site VARCHAR(63) NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	device VARCHAR(63) DEFAULT '' NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	active BOOLEAN NOT NULL, 
	started_at DATETIME NOT NULL, 
	last_at DATETIME NOT NULL, 
	ended_at DATETIME, 
	repeats INTEGER DEFAULT '0' NOT NULL, 
	text TEXT NOT NULL, 
	data JSON NOT NULL, 
	source VARCHAR(200) DEFAULT '' NOT NULL, 
	level FLOAT, 
	acknowledged_by VARCHAR(63), 
	acknowledged_at DATETIME, 
	ack_comment TEXT, 
	resolved_by VARCHAR(63), 
	resolved_at DATETIME, 
	resolve_comment TEXT, 
	cause_ended_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "alerts" VALUES(1,'help','warning','thcs-nguyen-chi-thanh','6a1','','acknowledged',1,'2025-03-03 01:00:31.000000','2025-03-03 01:00:31.000000',NULL,0,'Cô ơi','{}','thcs-nguyen-chi-thanh/6a1/b1/31',NULL,'lan','2025-03-03 01:00:40.000000','đang đến',NULL,NULL,NULL,NULL);
INSERT INTO "alerts" VALUES(2,'agent_offline','critical','thcs-nguyen-chi-thanh','6a2','','resolved',0,'2025-03-03 01:00:45.000000','2025-03-03 01:00:45.000000','2025-03-03 01:00:50.000000',0,'offline','{}','',NULL,NULL,NULL,NULL,'lan','2025-03-03 01:00:50.000000','đã sửa',NULL);
CREATE TABLE api_tokens (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	name VARCHAR(80) NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	expires_at DATETIME, 
	last_used_at DATETIME, 
	revoked_at DATETIME, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (digest)
);
INSERT INTO "api_tokens" VALUES(1,1,'bao-cao-dem','e7e5ea567adeb1f068864750489c6156915e4c280bbef52ad86e0fb2e7c317f8','2026-12-02 02:13:54.939436',NULL,NULL,NULL);
CREATE TABLE audit_log (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	actor VARCHAR(63) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	via VARCHAR(16) NOT NULL, 
	address VARCHAR(64) NOT NULL, 
	action VARCHAR(40) NOT NULL, 
	site VARCHAR(63), 
	room VARCHAR(63), 
	device VARCHAR(63), 
	outcome VARCHAR(40) NOT NULL, 
	duration_ms FLOAT, 
	detail JSON NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "audit_log" VALUES(1,'2026-12-02 02:13:55.180951','thu','teacher','session','192.0.2.10','login',NULL,NULL,NULL,'ok',NULL,'{}');
INSERT INTO "audit_log" VALUES(2,'2026-12-02 02:13:55.184253','thu','','','','login',NULL,NULL,NULL,'bad_password',NULL,'{}');
INSERT INTO "audit_log" VALUES(3,'2026-12-02 02:13:55.185081','thu','teacher','session','','command','thcs-nguyen-chi-thanh','6a1','lights','ok',12.5,'{"action": "scene", "params": {"scene": "off"}}');
CREATE TABLE boots (
	agent VARCHAR(127) NOT NULL, 
	boot VARCHAR(64) NOT NULL, 
	boot_no INTEGER NOT NULL, 
	era INTEGER NOT NULL, 
	first_seen DATETIME NOT NULL, 
	last_seen DATETIME NOT NULL, 
	stored JSON NOT NULL, 
	stored_floor BIGINT DEFAULT '0' NOT NULL, 
	highest BIGINT DEFAULT '0' NOT NULL, 
	dropped JSON NOT NULL, 
	dropped_count BIGINT DEFAULT '0' NOT NULL, 
	end_seq BIGINT, 
	missing JSON NOT NULL, 
	missing_count BIGINT DEFAULT '0' NOT NULL, 
	PRIMARY KEY (agent, boot)
);
INSERT INTO "boots" VALUES('thcs-nguyen-chi-thanh/6a1','b1',1,0,'2025-03-03 01:00:30.000000','2025-03-03 01:00:30.000000','[[1, 6], [9, 31]]',0,31,'[[8, 8]]',1,31,'[[7, 7]]',1);
INSERT INTO "boots" VALUES('thcs-nguyen-chi-thanh/6a2','b1',0,0,'2025-03-03 01:00:30.000000','2025-03-03 01:00:30.000000','[[1, 5]]',0,5,'[]',0,NULL,'[]',0);
INSERT INTO "boots" VALUES('thcs-nguyen-chi-thanh/6a1','b2',2,0,'2025-03-03 01:00:30.000000','2025-03-03 01:00:30.000000','[[1, 4]]',0,4,'[]',0,4,'[]',0);
INSERT INTO "boots" VALUES('thcs-nguyen-chi-thanh/9a1','c1',1,0,'2025-03-03 01:00:30.000000','2025-03-03 01:00:30.000000','[[1, 32]]',0,32,'[]',0,NULL,'[]',0);
CREATE TABLE commands (
	id VARCHAR(64) NOT NULL, 
	site VARCHAR(63) NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	action VARCHAR(63) NOT NULL, 
	params JSON NOT NULL, 
	issuer VARCHAR(200) NOT NULL, 
	sent_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	reply_code VARCHAR(32), 
	reply_text TEXT, 
	reply_at DATETIME, 
	PRIMARY KEY (id)
);
INSERT INTO "commands" VALUES('cmd-0001','thcs-nguyen-chi-thanh','6a1','lights','scene','{"scene": "projection"}','giao-vien-lan','2025-03-03 01:00:50.000000','2025-03-03 01:01:00.000000','ok','đã chiếu','2025-03-03 01:00:30.000000');
CREATE TABLE dead_letters (
	id INTEGER NOT NULL, 
	topic TEXT NOT NULL, 
	payload BLOB NOT NULL, 
	size INTEGER NOT NULL, 
	reason VARCHAR(32) NOT NULL, 
	detail TEXT NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "dead_letters" VALUES(1,'sc/thcs-nguyen-chi-thanh/6a1/telemetry',X'7B6E6F74206A736F6E',9,'bad_json','invalid Telemetry payload: (payload): Invalid JSON: key must be a string at line 1 column 2','2025-03-03 01:00:30.000000');
INSERT INTO "dead_letters" VALUES(2,'sc/thcs-nguyen-chi-thanh/x9/telemetry',X'7B2276223A332C227473223A22323032352D30332D30335430313A30303A35305A222C2273656E646572223A226875622D74657374222C226964223A22636D642D30303031222C22646576696365223A226C6967687473222C22616374696F6E223A227363656E65222C22706172616D73223A7B227363656E65223A2270726F6A656374696F6E227D2C22697373756572223A226769616F2D7669656E2D6C616E222C2265787069726573223A22323032352D30332D30335430313A30313A30305A222C227265706C795F746F223A226875622D74657374227D',218,'unknown_room','room thcs-nguyen-chi-thanh/x9 is not registered','2025-03-03 01:00:30.000000');
INSERT INTO "dead_letters" VALUES(3,'sc/thcs-nguyen-chi-thanh/6a1/event',X'00FF2062696E617279',9,'bad_json','invalid Event payload: (payload): Invalid JSON: expected value at line 1 column 1','2025-03-03 01:00:30.000000');
CREATE TABLE device_state (
	site VARCHAR(63) NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	family VARCHAR(63) NOT NULL, 
	state JSON NOT NULL, 
	available BOOLEAN NOT NULL, 
	updated_at DATETIME NOT NULL, 
	era INTEGER DEFAULT '0' NOT NULL, 
	boot_no INTEGER DEFAULT '0' NOT NULL, 
	n INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (site, room, device)
);
INSERT INTO "device_state" VALUES('thcs-nguyen-chi-thanh','6a1','lights','lights','{"scene": "lesson", "on": true}',1,'2025-03-03 01:00:00.000000',0,1,1);
CREATE TABLE events (
	id INTEGER NOT NULL, 
	agent VARCHAR(127) NOT NULL, 
	boot VARCHAR(64) NOT NULL, 
	seq BIGINT NOT NULL, 
	kind VARCHAR(63) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	device VARCHAR(63), 
	text TEXT NOT NULL, 
	data JSON NOT NULL, 
	ts DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_events_message UNIQUE (agent, boot, seq)
);
INSERT INTO "events" VALUES(1,'thcs-nguyen-chi-thanh/6a1','b1',31,'help','info',NULL,'Cô ơi, máy chiếu không lên','{}','2025-03-03 01:00:31.000000');
INSERT INTO "events" VALUES(2,'thcs-nguyen-chi-thanh/6a1','b2',4,'stale_air','info',NULL,'CO2 cao','{}','2025-03-03 01:00:42.000000');
CREATE TABLE latest_readings (
	agent VARCHAR(127) NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	metric VARCHAR(63) NOT NULL, 
	value FLOAT NOT NULL, 
	ts DATETIME NOT NULL, 
	era INTEGER DEFAULT '0' NOT NULL, 
	boot_no INTEGER DEFAULT '0' NOT NULL, 
	seq BIGINT DEFAULT '0' NOT NULL, 
	PRIMARY KEY (agent, device, metric)
);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/6a1','env','co2_ppm',403.0,'2025-03-04 01:00:00.000000',0,2,3);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/6a1','env','temperature_c',25.0,'2025-03-04 01:00:00.000000',0,2,3);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/6a1','air','co2_ppm',1250.5,'2025-03-03 01:00:41.000000',0,2,2);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/6a2','env','co2_ppm',405.0,'2025-03-03 01:00:05.000000',0,0,5);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/6a2','env','temperature_c',25.0,'2025-03-03 01:00:05.000000',0,0,5);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','air','co2_ppm',1600.0,'2025-03-03 00:50:00.000000',0,1,32);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','air','temperature_c',29.5,'2025-03-03 00:50:00.000000',0,1,32);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','lights','level_back_pct',50.0,'2025-03-03 00:50:00.000000',0,1,31);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','lights','level_front_pct',100.0,'2025-03-03 00:50:00.000000',0,1,31);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','presence','occupied',0.0,'2025-03-03 00:50:00.000000',0,1,29);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','projector','filter_hours',300.0,'2025-03-03 00:50:00.000000',0,1,30);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','projector','lamp_hours',1201.0,'2025-03-03 00:50:00.000000',0,1,30);
INSERT INTO "latest_readings" VALUES('thcs-nguyen-chi-thanh/9a1','projector','power_on',0.0,'2025-03-03 00:50:00.000000',0,1,30);
CREATE TABLE room_config_versions (
	site VARCHAR(63) NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	version INTEGER NOT NULL, 
	document JSON NOT NULL, 
	site_version INTEGER NOT NULL, 
	effective JSON NOT NULL, 
	cause VARCHAR(16) NOT NULL, 
	author VARCHAR(63) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	comment TEXT NOT NULL, 
	PRIMARY KEY (site, room, version), 
	FOREIGN KEY(site, room) REFERENCES rooms (site_id, room_id) ON DELETE CASCADE
);
INSERT INTO "room_config_versions" VALUES('thcs-nguyen-chi-thanh','6a1',1,'{}',1,'{"settings": {"telemetry_interval_s": 10.0}}','school','lan','it','2026-12-02 02:13:54.424222','cả trường');
INSERT INTO "room_config_versions" VALUES('thcs-nguyen-chi-thanh','6a2',1,'{}',1,'{"settings": {"telemetry_interval_s": 10.0}}','school','lan','it','2026-12-02 02:13:54.424222','cả trường');
INSERT INTO "room_config_versions" VALUES('thcs-nguyen-chi-thanh','9a1',1,'{}',1,'{"settings": {"telemetry_interval_s": 10.0}}','school','lan','it','2026-12-02 02:13:54.424222','cả trường');
INSERT INTO "room_config_versions" VALUES('thcs-nguyen-chi-thanh','6a1',2,'{"settings": {"telemetry_interval_s": 5}}',1,'{"settings": {"telemetry_interval_s": 5.0}}','room','lan','it','2026-12-02 02:13:54.440752','');
CREATE TABLE rooms (
	site_id VARCHAR(63) NOT NULL, 
	room_id VARCHAR(63) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	online BOOLEAN NOT NULL, 
	last_status_at DATETIME, 
	boot VARCHAR(64), 
	keepalive INTEGER, 
	agent_version VARCHAR(64), 
	families JSON, 
	status_era INTEGER, 
	status_boot_no INTEGER, 
	status_conn INTEGER, 
	status_rank INTEGER, 
	last_seen_at DATETIME, 
	clock_suspects INTEGER DEFAULT '0' NOT NULL, 
	clock_skew_s FLOAT, 
	clock_suspect_at DATETIME, 
	config_version_pushed INTEGER NOT NULL, 
	config_settings JSON, 
	config_version_applied INTEGER, 
	config_applied_ok BOOLEAN, 
	config_applied_text TEXT, 
	config_refused_version INTEGER, 
	applied_era INTEGER, 
	applied_boot_no INTEGER, 
	applied_n INTEGER, 
	PRIMARY KEY (site_id, room_id), 
	FOREIGN KEY(site_id) REFERENCES sites (id) ON DELETE CASCADE
);
INSERT INTO "rooms" VALUES('thcs-nguyen-chi-thanh','6a1','6a1',1,'2025-03-03 01:00:30.000000','b2',5,'0.1.0','{"env": "environment", "lights": "lights"}',0,2,1,0,'2025-03-03 01:00:30.000000',1,86370.0,'2025-03-03 01:00:30.000000',2,'{"telemetry_interval_s": 5.0}',2,1,'',0,0,1,1);
INSERT INTO "rooms" VALUES('thcs-nguyen-chi-thanh','6a2','6a2',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'2025-03-03 01:00:30.000000',0,NULL,NULL,1,'{"telemetry_interval_s": 10.0}',0,0,'không lưu được',1,0,0,1);
INSERT INTO "rooms" VALUES('thcs-nguyen-chi-thanh','9a1','9a1',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'2025-03-03 01:00:30.000000',0,NULL,NULL,1,'{"telemetry_interval_s": 10.0}',NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO "rooms" VALUES('thpt-vo-truong-toan','10a1','10A1',0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,0,NULL,NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE site_config_versions (
	site VARCHAR(63) NOT NULL, 
	version INTEGER NOT NULL, 
	document JSON NOT NULL, 
	author VARCHAR(63) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	created_at DATETIME NOT NULL, 
	comment TEXT NOT NULL, 
	PRIMARY KEY (site, version), 
	FOREIGN KEY(site) REFERENCES sites (id) ON DELETE CASCADE
);
INSERT INTO "site_config_versions" VALUES('thcs-nguyen-chi-thanh',1,'{"settings": {"telemetry_interval_s": 10}}','lan','it','2026-12-02 02:13:54.424222','cả trường');
CREATE TABLE sites (
	id VARCHAR(63) NOT NULL, 
	name VARCHAR(200) NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "sites" VALUES('thcs-nguyen-chi-thanh','THCS Nguyễn Chí Thanh');
INSERT INTO "sites" VALUES('thpt-vo-truong-toan','THPT Võ Trường Toản');
CREATE TABLE telemetry (
	id INTEGER NOT NULL, 
	agent VARCHAR(127) NOT NULL, 
	boot VARCHAR(64) NOT NULL, 
	seq BIGINT NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	metric VARCHAR(63) NOT NULL, 
	value FLOAT NOT NULL, 
	ts DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_telemetry_message_metric UNIQUE (agent, boot, seq, metric)
);
INSERT INTO "telemetry" VALUES(1,'thcs-nguyen-chi-thanh/6a1','b1',1,'env','co2_ppm',401.0,'2025-03-03 01:00:01.000000');
INSERT INTO "telemetry" VALUES(2,'thcs-nguyen-chi-thanh/6a1','b1',1,'env','temperature_c',25.0,'2025-03-03 01:00:01.000000');
INSERT INTO "telemetry" VALUES(3,'thcs-nguyen-chi-thanh/6a1','b1',2,'env','co2_ppm',402.0,'2025-03-03 01:00:02.000000');
INSERT INTO "telemetry" VALUES(4,'thcs-nguyen-chi-thanh/6a1','b1',2,'env','temperature_c',25.0,'2025-03-03 01:00:02.000000');
INSERT INTO "telemetry" VALUES(5,'thcs-nguyen-chi-thanh/6a1','b1',3,'env','co2_ppm',403.0,'2025-03-03 01:00:03.000000');
INSERT INTO "telemetry" VALUES(6,'thcs-nguyen-chi-thanh/6a1','b1',3,'env','temperature_c',25.0,'2025-03-03 01:00:03.000000');
INSERT INTO "telemetry" VALUES(7,'thcs-nguyen-chi-thanh/6a1','b1',4,'env','co2_ppm',404.0,'2025-03-03 01:00:04.000000');
INSERT INTO "telemetry" VALUES(8,'thcs-nguyen-chi-thanh/6a1','b1',4,'env','temperature_c',25.0,'2025-03-03 01:00:04.000000');
INSERT INTO "telemetry" VALUES(9,'thcs-nguyen-chi-thanh/6a1','b1',5,'env','co2_ppm',405.0,'2025-03-03 01:00:05.000000');
INSERT INTO "telemetry" VALUES(10,'thcs-nguyen-chi-thanh/6a1','b1',5,'env','temperature_c',25.0,'2025-03-03 01:00:05.000000');
INSERT INTO "telemetry" VALUES(11,'thcs-nguyen-chi-thanh/6a1','b1',6,'env','co2_ppm',406.0,'2025-03-03 01:00:06.000000');
INSERT INTO "telemetry" VALUES(12,'thcs-nguyen-chi-thanh/6a1','b1',6,'env','temperature_c',25.0,'2025-03-03 01:00:06.000000');
INSERT INTO "telemetry" VALUES(13,'thcs-nguyen-chi-thanh/6a1','b1',9,'env','co2_ppm',409.0,'2025-03-03 01:00:09.000000');
INSERT INTO "telemetry" VALUES(14,'thcs-nguyen-chi-thanh/6a1','b1',9,'env','temperature_c',25.0,'2025-03-03 01:00:09.000000');
INSERT INTO "telemetry" VALUES(15,'thcs-nguyen-chi-thanh/6a1','b1',10,'env','co2_ppm',410.0,'2025-03-03 01:00:10.000000');
INSERT INTO "telemetry" VALUES(16,'thcs-nguyen-chi-thanh/6a1','b1',10,'env','temperature_c',25.0,'2025-03-03 01:00:10.000000');
INSERT INTO "telemetry" VALUES(17,'thcs-nguyen-chi-thanh/6a1','b1',11,'env','co2_ppm',411.0,'2025-03-03 01:00:11.000000');
INSERT INTO "telemetry" VALUES(18,'thcs-nguyen-chi-thanh/6a1','b1',11,'env','temperature_c',25.0,'2025-03-03 01:00:11.000000');
INSERT INTO "telemetry" VALUES(19,'thcs-nguyen-chi-thanh/6a1','b1',12,'env','co2_ppm',412.0,'2025-03-03 01:00:12.000000');
INSERT INTO "telemetry" VALUES(20,'thcs-nguyen-chi-thanh/6a1','b1',12,'env','temperature_c',25.0,'2025-03-03 01:00:12.000000');
INSERT INTO "telemetry" VALUES(21,'thcs-nguyen-chi-thanh/6a1','b1',13,'env','co2_ppm',413.0,'2025-03-03 01:00:13.000000');
INSERT INTO "telemetry" VALUES(22,'thcs-nguyen-chi-thanh/6a1','b1',13,'env','temperature_c',25.0,'2025-03-03 01:00:13.000000');
INSERT INTO "telemetry" VALUES(23,'thcs-nguyen-chi-thanh/6a1','b1',14,'env','co2_ppm',414.0,'2025-03-03 01:00:14.000000');
INSERT INTO "telemetry" VALUES(24,'thcs-nguyen-chi-thanh/6a1','b1',14,'env','temperature_c',25.0,'2025-03-03 01:00:14.000000');
INSERT INTO "telemetry" VALUES(25,'thcs-nguyen-chi-thanh/6a1','b1',15,'env','co2_ppm',415.0,'2025-03-03 01:00:15.000000');
INSERT INTO "telemetry" VALUES(26,'thcs-nguyen-chi-thanh/6a1','b1',15,'env','temperature_c',25.0,'2025-03-03 01:00:15.000000');
INSERT INTO "telemetry" VALUES(27,'thcs-nguyen-chi-thanh/6a1','b1',16,'env','co2_ppm',416.0,'2025-03-03 01:00:16.000000');
INSERT INTO "telemetry" VALUES(28,'thcs-nguyen-chi-thanh/6a1','b1',16,'env','temperature_c',25.0,'2025-03-03 01:00:16.000000');
INSERT INTO "telemetry" VALUES(29,'thcs-nguyen-chi-thanh/6a1','b1',17,'env','co2_ppm',417.0,'2025-03-03 01:00:17.000000');
INSERT INTO "telemetry" VALUES(30,'thcs-nguyen-chi-thanh/6a1','b1',17,'env','temperature_c',25.0,'2025-03-03 01:00:17.000000');
INSERT INTO "telemetry" VALUES(31,'thcs-nguyen-chi-thanh/6a1','b1',18,'env','co2_ppm',418.0,'2025-03-03 01:00:18.000000');
INSERT INTO "telemetry" VALUES(32,'thcs-nguyen-chi-thanh/6a1','b1',18,'env','temperature_c',25.0,'2025-03-03 01:00:18.000000');
INSERT INTO "telemetry" VALUES(33,'thcs-nguyen-chi-thanh/6a1','b1',19,'env','co2_ppm',419.0,'2025-03-03 01:00:19.000000');
INSERT INTO "telemetry" VALUES(34,'thcs-nguyen-chi-thanh/6a1','b1',19,'env','temperature_c',25.0,'2025-03-03 01:00:19.000000');
INSERT INTO "telemetry" VALUES(35,'thcs-nguyen-chi-thanh/6a1','b1',20,'env','co2_ppm',420.0,'2025-03-03 01:00:20.000000');
INSERT INTO "telemetry" VALUES(36,'thcs-nguyen-chi-thanh/6a1','b1',20,'env','temperature_c',25.0,'2025-03-03 01:00:20.000000');
INSERT INTO "telemetry" VALUES(37,'thcs-nguyen-chi-thanh/6a1','b1',21,'env','co2_ppm',421.0,'2025-03-03 01:00:21.000000');
INSERT INTO "telemetry" VALUES(38,'thcs-nguyen-chi-thanh/6a1','b1',21,'env','temperature_c',25.0,'2025-03-03 01:00:21.000000');
INSERT INTO "telemetry" VALUES(39,'thcs-nguyen-chi-thanh/6a1','b1',22,'env','co2_ppm',422.0,'2025-03-03 01:00:22.000000');
INSERT INTO "telemetry" VALUES(40,'thcs-nguyen-chi-thanh/6a1','b1',22,'env','temperature_c',25.0,'2025-03-03 01:00:22.000000');
INSERT INTO "telemetry" VALUES(41,'thcs-nguyen-chi-thanh/6a1','b1',23,'env','co2_ppm',423.0,'2025-03-03 01:00:23.000000');
INSERT INTO "telemetry" VALUES(42,'thcs-nguyen-chi-thanh/6a1','b1',23,'env','temperature_c',25.0,'2025-03-03 01:00:23.000000');
INSERT INTO "telemetry" VALUES(43,'thcs-nguyen-chi-thanh/6a1','b1',24,'env','co2_ppm',424.0,'2025-03-03 01:00:24.000000');
INSERT INTO "telemetry" VALUES(44,'thcs-nguyen-chi-thanh/6a1','b1',24,'env','temperature_c',25.0,'2025-03-03 01:00:24.000000');
INSERT INTO "telemetry" VALUES(45,'thcs-nguyen-chi-thanh/6a1','b1',25,'env','co2_ppm',425.0,'2025-03-03 01:00:25.000000');
INSERT INTO "telemetry" VALUES(46,'thcs-nguyen-chi-thanh/6a1','b1',25,'env','temperature_c',25.0,'2025-03-03 01:00:25.000000');
INSERT INTO "telemetry" VALUES(47,'thcs-nguyen-chi-thanh/6a1','b1',26,'env','co2_ppm',426.0,'2025-03-03 01:00:26.000000');
INSERT INTO "telemetry" VALUES(48,'thcs-nguyen-chi-thanh/6a1','b1',26,'env','temperature_c',25.0,'2025-03-03 01:00:26.000000');
INSERT INTO "telemetry" VALUES(49,'thcs-nguyen-chi-thanh/6a1','b1',27,'env','co2_ppm',427.0,'2025-03-03 01:00:27.000000');
INSERT INTO "telemetry" VALUES(50,'thcs-nguyen-chi-thanh/6a1','b1',27,'env','temperature_c',25.0,'2025-03-03 01:00:27.000000');
INSERT INTO "telemetry" VALUES(51,'thcs-nguyen-chi-thanh/6a1','b1',28,'env','co2_ppm',428.0,'2025-03-03 01:00:28.000000');
INSERT INTO "telemetry" VALUES(52,'thcs-nguyen-chi-thanh/6a1','b1',28,'env','temperature_c',25.0,'2025-03-03 01:00:28.000000');
INSERT INTO "telemetry" VALUES(53,'thcs-nguyen-chi-thanh/6a1','b1',29,'env','co2_ppm',429.0,'2025-03-03 01:00:29.000000');
INSERT INTO "telemetry" VALUES(54,'thcs-nguyen-chi-thanh/6a1','b1',29,'env','temperature_c',25.0,'2025-03-03 01:00:29.000000');
INSERT INTO "telemetry" VALUES(55,'thcs-nguyen-chi-thanh/6a1','b1',30,'env','co2_ppm',430.0,'2025-03-03 01:00:30.000000');
INSERT INTO "telemetry" VALUES(56,'thcs-nguyen-chi-thanh/6a1','b1',30,'env','temperature_c',25.0,'2025-03-03 01:00:30.000000');
INSERT INTO "telemetry" VALUES(57,'thcs-nguyen-chi-thanh/6a1','b2',1,'env','co2_ppm',401.0,'2025-03-03 01:00:40.000000');
INSERT INTO "telemetry" VALUES(58,'thcs-nguyen-chi-thanh/6a1','b2',1,'env','temperature_c',25.0,'2025-03-03 01:00:40.000000');
INSERT INTO "telemetry" VALUES(59,'thcs-nguyen-chi-thanh/6a1','b2',2,'air','co2_ppm',1250.5,'2025-03-03 01:00:41.000000');
INSERT INTO "telemetry" VALUES(60,'thcs-nguyen-chi-thanh/6a1','b2',3,'env','co2_ppm',403.0,'2025-03-04 01:00:00.000000');
INSERT INTO "telemetry" VALUES(61,'thcs-nguyen-chi-thanh/6a1','b2',3,'env','temperature_c',25.0,'2025-03-04 01:00:00.000000');
INSERT INTO "telemetry" VALUES(62,'thcs-nguyen-chi-thanh/6a2','b1',1,'env','co2_ppm',401.0,'2025-03-03 01:00:01.000000');
INSERT INTO "telemetry" VALUES(63,'thcs-nguyen-chi-thanh/6a2','b1',1,'env','temperature_c',25.0,'2025-03-03 01:00:01.000000');
INSERT INTO "telemetry" VALUES(64,'thcs-nguyen-chi-thanh/6a2','b1',2,'env','co2_ppm',402.0,'2025-03-03 01:00:02.000000');
INSERT INTO "telemetry" VALUES(65,'thcs-nguyen-chi-thanh/6a2','b1',2,'env','temperature_c',25.0,'2025-03-03 01:00:02.000000');
INSERT INTO "telemetry" VALUES(66,'thcs-nguyen-chi-thanh/6a2','b1',3,'env','co2_ppm',403.0,'2025-03-03 01:00:03.000000');
INSERT INTO "telemetry" VALUES(67,'thcs-nguyen-chi-thanh/6a2','b1',3,'env','temperature_c',25.0,'2025-03-03 01:00:03.000000');
INSERT INTO "telemetry" VALUES(68,'thcs-nguyen-chi-thanh/6a2','b1',4,'env','co2_ppm',404.0,'2025-03-03 01:00:04.000000');
INSERT INTO "telemetry" VALUES(69,'thcs-nguyen-chi-thanh/6a2','b1',4,'env','temperature_c',25.0,'2025-03-03 01:00:04.000000');
INSERT INTO "telemetry" VALUES(70,'thcs-nguyen-chi-thanh/6a2','b1',5,'env','co2_ppm',405.0,'2025-03-03 01:00:05.000000');
INSERT INTO "telemetry" VALUES(71,'thcs-nguyen-chi-thanh/6a2','b1',5,'env','temperature_c',25.0,'2025-03-03 01:00:05.000000');
INSERT INTO "telemetry" VALUES(72,'thcs-nguyen-chi-thanh/9a1','c1',1,'presence','occupied',1.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(73,'thcs-nguyen-chi-thanh/9a1','c1',2,'projector','power_on',0.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(74,'thcs-nguyen-chi-thanh/9a1','c1',2,'projector','lamp_hours',1200.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(75,'thcs-nguyen-chi-thanh/9a1','c1',2,'projector','filter_hours',300.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(76,'thcs-nguyen-chi-thanh/9a1','c1',3,'lights','level_front_pct',100.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(77,'thcs-nguyen-chi-thanh/9a1','c1',3,'lights','level_back_pct',0.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(78,'thcs-nguyen-chi-thanh/9a1','c1',4,'air','co2_ppm',900.0,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(79,'thcs-nguyen-chi-thanh/9a1','c1',4,'air','temperature_c',29.5,'2025-03-02 23:40:00.000000');
INSERT INTO "telemetry" VALUES(80,'thcs-nguyen-chi-thanh/9a1','c1',5,'presence','occupied',1.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(81,'thcs-nguyen-chi-thanh/9a1','c1',6,'projector','power_on',1.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(82,'thcs-nguyen-chi-thanh/9a1','c1',6,'projector','lamp_hours',1200.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(83,'thcs-nguyen-chi-thanh/9a1','c1',6,'projector','filter_hours',300.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(84,'thcs-nguyen-chi-thanh/9a1','c1',7,'lights','level_front_pct',100.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(85,'thcs-nguyen-chi-thanh/9a1','c1',7,'lights','level_back_pct',0.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(86,'thcs-nguyen-chi-thanh/9a1','c1',8,'air','co2_ppm',900.0,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(87,'thcs-nguyen-chi-thanh/9a1','c1',8,'air','temperature_c',29.5,'2025-03-02 23:50:00.000000');
INSERT INTO "telemetry" VALUES(88,'thcs-nguyen-chi-thanh/9a1','c1',9,'presence','occupied',1.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(89,'thcs-nguyen-chi-thanh/9a1','c1',10,'projector','power_on',1.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(90,'thcs-nguyen-chi-thanh/9a1','c1',10,'projector','lamp_hours',1200.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(91,'thcs-nguyen-chi-thanh/9a1','c1',10,'projector','filter_hours',300.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(92,'thcs-nguyen-chi-thanh/9a1','c1',11,'lights','level_front_pct',100.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(93,'thcs-nguyen-chi-thanh/9a1','c1',11,'lights','level_back_pct',0.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(94,'thcs-nguyen-chi-thanh/9a1','c1',12,'air','co2_ppm',900.0,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(95,'thcs-nguyen-chi-thanh/9a1','c1',12,'air','temperature_c',29.5,'2025-03-03 00:00:00.000000');
INSERT INTO "telemetry" VALUES(96,'thcs-nguyen-chi-thanh/9a1','c1',13,'presence','occupied',1.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(97,'thcs-nguyen-chi-thanh/9a1','c1',14,'projector','power_on',1.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(98,'thcs-nguyen-chi-thanh/9a1','c1',14,'projector','lamp_hours',1200.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(99,'thcs-nguyen-chi-thanh/9a1','c1',14,'projector','filter_hours',300.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(100,'thcs-nguyen-chi-thanh/9a1','c1',15,'lights','level_front_pct',100.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(101,'thcs-nguyen-chi-thanh/9a1','c1',15,'lights','level_back_pct',0.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(102,'thcs-nguyen-chi-thanh/9a1','c1',16,'air','co2_ppm',1300.0,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(103,'thcs-nguyen-chi-thanh/9a1','c1',16,'air','temperature_c',29.5,'2025-03-03 00:10:00.000000');
INSERT INTO "telemetry" VALUES(104,'thcs-nguyen-chi-thanh/9a1','c1',17,'presence','occupied',1.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(105,'thcs-nguyen-chi-thanh/9a1','c1',18,'projector','power_on',1.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(106,'thcs-nguyen-chi-thanh/9a1','c1',18,'projector','lamp_hours',1201.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(107,'thcs-nguyen-chi-thanh/9a1','c1',18,'projector','filter_hours',300.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(108,'thcs-nguyen-chi-thanh/9a1','c1',19,'lights','level_front_pct',100.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(109,'thcs-nguyen-chi-thanh/9a1','c1',19,'lights','level_back_pct',0.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(110,'thcs-nguyen-chi-thanh/9a1','c1',20,'air','co2_ppm',1300.0,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(111,'thcs-nguyen-chi-thanh/9a1','c1',20,'air','temperature_c',29.5,'2025-03-03 00:20:00.000000');
INSERT INTO "telemetry" VALUES(112,'thcs-nguyen-chi-thanh/9a1','c1',21,'presence','occupied',0.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(113,'thcs-nguyen-chi-thanh/9a1','c1',22,'projector','power_on',1.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(114,'thcs-nguyen-chi-thanh/9a1','c1',22,'projector','lamp_hours',1201.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(115,'thcs-nguyen-chi-thanh/9a1','c1',22,'projector','filter_hours',300.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(116,'thcs-nguyen-chi-thanh/9a1','c1',23,'lights','level_front_pct',100.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(117,'thcs-nguyen-chi-thanh/9a1','c1',23,'lights','level_back_pct',50.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(118,'thcs-nguyen-chi-thanh/9a1','c1',24,'air','co2_ppm',1600.0,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(119,'thcs-nguyen-chi-thanh/9a1','c1',24,'air','temperature_c',29.5,'2025-03-03 00:30:00.000000');
INSERT INTO "telemetry" VALUES(120,'thcs-nguyen-chi-thanh/9a1','c1',25,'presence','occupied',0.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(121,'thcs-nguyen-chi-thanh/9a1','c1',26,'projector','power_on',0.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(122,'thcs-nguyen-chi-thanh/9a1','c1',26,'projector','lamp_hours',1201.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(123,'thcs-nguyen-chi-thanh/9a1','c1',26,'projector','filter_hours',300.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(124,'thcs-nguyen-chi-thanh/9a1','c1',27,'lights','level_front_pct',100.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(125,'thcs-nguyen-chi-thanh/9a1','c1',27,'lights','level_back_pct',50.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(126,'thcs-nguyen-chi-thanh/9a1','c1',28,'air','co2_ppm',1600.0,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(127,'thcs-nguyen-chi-thanh/9a1','c1',28,'air','temperature_c',29.5,'2025-03-03 00:40:00.000000');
INSERT INTO "telemetry" VALUES(128,'thcs-nguyen-chi-thanh/9a1','c1',29,'presence','occupied',0.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(129,'thcs-nguyen-chi-thanh/9a1','c1',30,'projector','power_on',0.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(130,'thcs-nguyen-chi-thanh/9a1','c1',30,'projector','lamp_hours',1201.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(131,'thcs-nguyen-chi-thanh/9a1','c1',30,'projector','filter_hours',300.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(132,'thcs-nguyen-chi-thanh/9a1','c1',31,'lights','level_front_pct',100.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(133,'thcs-nguyen-chi-thanh/9a1','c1',31,'lights','level_back_pct',50.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(134,'thcs-nguyen-chi-thanh/9a1','c1',32,'air','co2_ppm',1600.0,'2025-03-03 00:50:00.000000');
INSERT INTO "telemetry" VALUES(135,'thcs-nguyen-chi-thanh/9a1','c1',32,'air','temperature_c',29.5,'2025-03-03 00:50:00.000000');
CREATE TABLE usage_daily (
	site VARCHAR(63) NOT NULL, 
	day DATE NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	part VARCHAR(63) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	covered_s FLOAT DEFAULT '0' NOT NULL, 
	on_s FLOAT DEFAULT '0' NOT NULL, 
	empty_s FLOAT DEFAULT '0' NOT NULL, 
	closed_s FLOAT DEFAULT '0' NOT NULL, 
	waste_s FLOAT DEFAULT '0' NOT NULL, 
	energy_wh FLOAT DEFAULT '0' NOT NULL, 
	waste_wh FLOAT DEFAULT '0' NOT NULL, 
	occupied_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1000_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1500_s FLOAT DEFAULT '0' NOT NULL, 
	temp_sum FLOAT DEFAULT '0' NOT NULL, 
	temp_n INTEGER DEFAULT '0' NOT NULL, 
	noise_sum FLOAT DEFAULT '0' NOT NULL, 
	noise_n INTEGER DEFAULT '0' NOT NULL, 
	lamp_h FLOAT, 
	filter_h FLOAT, 
	PRIMARY KEY (site, day, room, device, part)
)
 WITHOUT ROWID

;
INSERT INTO "usage_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1','air','','sensor',4800.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,3000.0,1800.0,118.0,4,0.0,0,NULL,NULL);
INSERT INTO "usage_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1','lights','','lighting',4800.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1','lights','back','lighting',0.0,1800.0,1800.0,1200.0,1800.0,50.0,50.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1','lights','front','lighting',0.0,4800.0,1800.0,1200.0,1800.0,1.33333333333333342802e+02,50.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1','presence','','sensor',4800.0,0.0,0.0,0.0,0.0,0.0,0.0,3000.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1','projector','','projector',4800.0,3000.0,600.0,0.0,600.0,2.08333333333333314395e+02,4.16666666666666642973e+01,0.0,0.0,0.0,0.0,0,0.0,0,1201.0,300.0);
CREATE TABLE usage_hourly (
	site VARCHAR(63) NOT NULL, 
	hour DATETIME NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	part VARCHAR(63) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	covered_s FLOAT DEFAULT '0' NOT NULL, 
	on_s FLOAT DEFAULT '0' NOT NULL, 
	empty_s FLOAT DEFAULT '0' NOT NULL, 
	closed_s FLOAT DEFAULT '0' NOT NULL, 
	waste_s FLOAT DEFAULT '0' NOT NULL, 
	energy_wh FLOAT DEFAULT '0' NOT NULL, 
	waste_wh FLOAT DEFAULT '0' NOT NULL, 
	occupied_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1000_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1500_s FLOAT DEFAULT '0' NOT NULL, 
	temp_sum FLOAT DEFAULT '0' NOT NULL, 
	temp_n INTEGER DEFAULT '0' NOT NULL, 
	noise_sum FLOAT DEFAULT '0' NOT NULL, 
	noise_n INTEGER DEFAULT '0' NOT NULL, 
	lamp_h FLOAT, 
	filter_h FLOAT, 
	PRIMARY KEY (site, hour, room, device, part)
)
 WITHOUT ROWID

;
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-02 23:00:00.000000','9a1','air','','sensor',1800.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,59.0,2,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-02 23:00:00.000000','9a1','lights','','lighting',1800.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-02 23:00:00.000000','9a1','lights','front','lighting',0.0,1800.0,0.0,0.0,0.0,50.0,0.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-02 23:00:00.000000','9a1','presence','','sensor',1800.0,0.0,0.0,0.0,0.0,0.0,0.0,1800.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-02 23:00:00.000000','9a1','projector','','projector',1800.0,1200.0,0.0,0.0,0.0,8.33333333333333285946e+01,0.0,0.0,0.0,0.0,0.0,0,0.0,0,1200.0,300.0);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-03 00:00:00.000000','9a1','air','','sensor',3000.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,3000.0,1800.0,59.0,2,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-03 00:00:00.000000','9a1','lights','','lighting',3000.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-03 00:00:00.000000','9a1','lights','back','lighting',0.0,1800.0,1800.0,1200.0,1800.0,50.0,50.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-03 00:00:00.000000','9a1','lights','front','lighting',0.0,3000.0,1800.0,1200.0,1800.0,8.33333333333333428107e+01,50.0,0.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-03 00:00:00.000000','9a1','presence','','sensor',3000.0,0.0,0.0,0.0,0.0,0.0,0.0,1200.0,0.0,0.0,0.0,0,0.0,0,NULL,NULL);
INSERT INTO "usage_hourly" VALUES('thcs-nguyen-chi-thanh','2025-03-03 00:00:00.000000','9a1','projector','','projector',3000.0,1800.0,600.0,0.0,600.0,125.0,4.16666666666666642973e+01,0.0,0.0,0.0,0.0,0,0.0,0,1201.0,300.0);
CREATE TABLE usage_room_daily (
	site VARCHAR(63) NOT NULL, 
	day DATE NOT NULL, 
	room VARCHAR(63) NOT NULL, 
	covered_s FLOAT DEFAULT '0' NOT NULL, 
	occupied_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1000_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1500_s FLOAT DEFAULT '0' NOT NULL, 
	PRIMARY KEY (site, day, room)
)
 WITHOUT ROWID

;
INSERT INTO "usage_room_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','9a1',4800.0,3000.0,3000.0,1800.0);
CREATE TABLE usage_site_daily (
	site VARCHAR(63) NOT NULL, 
	day DATE NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	device VARCHAR(63) NOT NULL, 
	part VARCHAR(63) NOT NULL, 
	covered_s FLOAT DEFAULT '0' NOT NULL, 
	on_s FLOAT DEFAULT '0' NOT NULL, 
	empty_s FLOAT DEFAULT '0' NOT NULL, 
	closed_s FLOAT DEFAULT '0' NOT NULL, 
	waste_s FLOAT DEFAULT '0' NOT NULL, 
	energy_wh FLOAT DEFAULT '0' NOT NULL, 
	waste_wh FLOAT DEFAULT '0' NOT NULL, 
	occupied_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1000_s FLOAT DEFAULT '0' NOT NULL, 
	co2_1500_s FLOAT DEFAULT '0' NOT NULL, 
	temp_sum FLOAT DEFAULT '0' NOT NULL, 
	temp_n INTEGER DEFAULT '0' NOT NULL, 
	noise_sum FLOAT DEFAULT '0' NOT NULL, 
	noise_n INTEGER DEFAULT '0' NOT NULL, 
	PRIMARY KEY (site, day, kind, device, part)
)
 WITHOUT ROWID

;
INSERT INTO "usage_site_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','lighting','lights','',4800.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0,0.0,0);
INSERT INTO "usage_site_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','lighting','lights','back',0.0,1800.0,1800.0,1200.0,1800.0,50.0,50.0,0.0,0.0,0.0,0.0,0,0.0,0);
INSERT INTO "usage_site_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','lighting','lights','front',0.0,4800.0,1800.0,1200.0,1800.0,1.33333333333333342802e+02,50.0,0.0,0.0,0.0,0.0,0,0.0,0);
INSERT INTO "usage_site_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','projector','projector','',4800.0,3000.0,600.0,0.0,600.0,2.08333333333333314395e+02,4.16666666666666642973e+01,0.0,0.0,0.0,0.0,0,0.0,0);
INSERT INTO "usage_site_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','sensor','air','',4800.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,3000.0,1800.0,118.0,4,0.0,0);
INSERT INTO "usage_site_daily" VALUES('thcs-nguyen-chi-thanh','2025-03-03','sensor','presence','',4800.0,0.0,0.0,0.0,0.0,0.0,0.0,3000.0,0.0,0.0,0.0,0,0.0,0);
CREATE TABLE user_rooms (
	user_id INTEGER NOT NULL, 
	site_id VARCHAR(63) NOT NULL, 
	room_id VARCHAR(63) NOT NULL, 
	PRIMARY KEY (user_id, site_id, room_id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
INSERT INTO "user_rooms" VALUES(2,'thcs-nguyen-chi-thanh','6a1');
CREATE TABLE user_sites (
	user_id INTEGER NOT NULL, 
	site_id VARCHAR(63) NOT NULL, 
	PRIMARY KEY (user_id, site_id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
INSERT INTO "user_sites" VALUES(1,'thcs-nguyen-chi-thanh');
CREATE TABLE users (
	id INTEGER NOT NULL, 
	username VARCHAR(63) NOT NULL, 
	display_name VARCHAR(200) NOT NULL, 
	role VARCHAR(16) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	disabled BOOLEAN NOT NULL, 
	created_at DATETIME NOT NULL, 
	password_changed_at DATETIME NOT NULL, 
	last_login_at DATETIME, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
INSERT INTO "users" VALUES(1,'lan','Cô Lan','it','$argon2id$v=19$m=65536,t=3,p=4$oJpaVP9yPadd96aybFJyog$Nam73p6Dmxr99k9X7VLnMWuZG4SmQmO+mkgBrEJeYq8',0,'2026-12-02 02:13:54.591865','2026-12-02 02:13:54.591865',NULL);
INSERT INTO "users" VALUES(2,'thu','','teacher','$argon2id$v=19$m=65536,t=3,p=4$GyRq7hbMXhl99Oixmo3/OQ$87Wrw81LKhqJzvsLTd2LFuujz3MNpQAQswq1iWDpTo4',0,'2026-12-02 02:13:54.758677','2026-12-02 02:13:54.758677','2026-12-02 02:13:55.155995');
CREATE TABLE web_sessions (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	digest VARCHAR(64) NOT NULL, 
	csrf VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	last_used_at DATETIME NOT NULL, 
	expires_at DATETIME NOT NULL, 
	address VARCHAR(64) NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	UNIQUE (digest)
);
INSERT INTO "web_sessions" VALUES(1,2,'f680357a3820137aaca14e95593ce5c708ef806916c5a78a018721bd0c068d89','WUDo4ctzQylOUUqYbvsCgaKW0dQ4Uq0qX5qiuPsAMP4','2026-12-02 02:13:55.168318','2026-12-02 02:13:55.168318','2026-12-16 02:13:55.168318','192.0.2.10');
CREATE INDEX ix_telemetry_agent_metric_ts ON telemetry (agent, metric, ts);
CREATE INDEX ix_events_agent_ts ON events (agent, ts);
CREATE INDEX ix_boots_agent ON boots (agent);
CREATE INDEX ix_dead_letters_received_at ON dead_letters (received_at);
CREATE INDEX ix_commands_room_sent_at ON commands (site, room, sent_at);
CREATE UNIQUE INDEX uq_alerts_active ON alerts (kind, site, room, device) WHERE active IS 1;
CREATE INDEX ix_alerts_site_room_started_at ON alerts (site, room, started_at);
CREATE INDEX ix_alerts_started_at ON alerts (started_at);
CREATE INDEX ix_audit_site_room_at ON audit_log (site, room, at);
CREATE INDEX ix_audit_at ON audit_log (at);
CREATE INDEX ix_audit_actor_at ON audit_log (actor, at);
CREATE INDEX ix_usage_hourly_hour ON usage_hourly (hour);
CREATE INDEX ix_usage_daily_day ON usage_daily (day);
CREATE INDEX ix_alert_transitions_alert ON alert_transitions (alert_id, id);
CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);
CREATE INDEX ix_web_sessions_user_id ON web_sessions (user_id);
COMMIT;
