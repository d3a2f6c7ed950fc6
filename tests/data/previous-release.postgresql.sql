-- The hub database of smartclass d641facf31e2 (scripts/previous_release_db.py)
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: previous_release; Type: SCHEMA; Schema: -; Owner: -
--



SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: agent_health; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE agent_health (
    site character varying(63) NOT NULL,
    room character varying(63) NOT NULL,
    boot character varying(64) NOT NULL,
    era integer NOT NULL,
    boot_no integer NOT NULL,
    n integer NOT NULL,
    report json NOT NULL,
    clock_offset_s double precision,
    received_at timestamp with time zone NOT NULL
);


--
-- Name: alert_transitions; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE alert_transitions (
    id integer NOT NULL,
    alert_id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    action character varying(16) NOT NULL,
    actor character varying(63) DEFAULT ''::character varying NOT NULL,
    comment text DEFAULT ''::text NOT NULL,
    source character varying(200),
    data json NOT NULL
);


--
-- Name: alert_transitions_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE alert_transitions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: alert_transitions_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE alert_transitions_id_seq OWNED BY alert_transitions.id;


--
-- Name: alerts; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE alerts (
    id integer NOT NULL,
    kind character varying(32) NOT NULL,
    severity character varying(16) NOT NULL,
    site character varying(63) NOT NULL,
    room character varying(63) NOT NULL,
    device character varying(63) DEFAULT ''::character varying NOT NULL,
    state character varying(16) NOT NULL,
    active boolean NOT NULL,
    started_at timestamp with time zone NOT NULL,
    last_at timestamp with time zone NOT NULL,
    ended_at timestamp with time zone,
    repeats integer DEFAULT 0 NOT NULL,
    text text NOT NULL,
    data json NOT NULL,
    source character varying(200) DEFAULT ''::character varying NOT NULL,
    level double precision,
    acknowledged_by character varying(63),
    acknowledged_at timestamp with time zone,
    ack_comment text,
    resolved_by character varying(63),
    resolved_at timestamp with time zone,
    resolve_comment text,
    cause_ended_at timestamp with time zone
);


--
-- Name: alerts_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE alerts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: alerts_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE alerts_id_seq OWNED BY alerts.id;


--
-- Name: api_tokens; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE api_tokens (
    id integer NOT NULL,
    user_id integer NOT NULL,
    name character varying(80) NOT NULL,
    digest character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: api_tokens_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE api_tokens_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: api_tokens_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE api_tokens_id_seq OWNED BY api_tokens.id;


--
-- Name: audit_log; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE audit_log (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(63) NOT NULL,
    role character varying(16) NOT NULL,
    via character varying(16) NOT NULL,
    address character varying(64) NOT NULL,
    action character varying(40) NOT NULL,
    site character varying(63),
    room character varying(63),
    device character varying(63),
    outcome character varying(40) NOT NULL,
    duration_ms double precision,
    detail json NOT NULL
);


--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE audit_log_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_log_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;


--
-- Name: boots; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE boots (
    agent character varying(127) NOT NULL,
    boot character varying(64) NOT NULL,
    boot_no integer NOT NULL,
    era integer NOT NULL,
    first_seen timestamp with time zone NOT NULL,
    last_seen timestamp with time zone NOT NULL,
    stored json NOT NULL,
    stored_floor bigint DEFAULT '0'::bigint NOT NULL,
    highest bigint DEFAULT '0'::bigint NOT NULL,
    dropped json NOT NULL,
    dropped_count bigint DEFAULT '0'::bigint NOT NULL,
    end_seq bigint,
    missing json NOT NULL,
    missing_count bigint DEFAULT '0'::bigint NOT NULL
);


--
-- Name: commands; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE commands (
    id character varying(64) NOT NULL,
    site character varying(63) NOT NULL,
    room character varying(63) NOT NULL,
    device character varying(63) NOT NULL,
    action character varying(63) NOT NULL,
    params json NOT NULL,
    issuer character varying(200) NOT NULL,
    sent_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    reply_code character varying(32),
    reply_text text,
    reply_at timestamp with time zone
);


--
-- Name: dead_letters; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE dead_letters (
    id bigint NOT NULL,
    topic text NOT NULL,
    payload bytea NOT NULL,
    size integer NOT NULL,
    reason character varying(32) NOT NULL,
    detail text NOT NULL,
    received_at timestamp with time zone NOT NULL
);


--
-- Name: dead_letters_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE dead_letters_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: dead_letters_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE dead_letters_id_seq OWNED BY dead_letters.id;


--
-- Name: device_state; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE device_state (
    site character varying(63) NOT NULL,
    room character varying(63) NOT NULL,
    device character varying(63) NOT NULL,
    family character varying(63) NOT NULL,
    state json NOT NULL,
    available boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    era integer DEFAULT 0 NOT NULL,
    boot_no integer DEFAULT 0 NOT NULL,
    n integer DEFAULT 0 NOT NULL
);


--
-- Name: events; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE events (
    id bigint NOT NULL,
    agent character varying(127) NOT NULL,
    boot character varying(64) NOT NULL,
    seq bigint NOT NULL,
    kind character varying(63) NOT NULL,
    severity character varying(16) NOT NULL,
    device character varying(63),
    text text NOT NULL,
    data json NOT NULL,
    ts timestamp with time zone NOT NULL
);


--
-- Name: events_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: events_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE events_id_seq OWNED BY events.id;


--
-- Name: latest_readings; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE latest_readings (
    agent character varying(127) NOT NULL,
    device character varying(63) NOT NULL,
    metric character varying(63) NOT NULL,
    value double precision NOT NULL,
    ts timestamp with time zone NOT NULL,
    era integer DEFAULT 0 NOT NULL,
    boot_no integer DEFAULT 0 NOT NULL,
    seq bigint DEFAULT '0'::bigint NOT NULL
);


--
-- Name: room_config_versions; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE room_config_versions (
    site character varying(63) NOT NULL,
    room character varying(63) NOT NULL,
    version integer NOT NULL,
    document json NOT NULL,
    site_version integer NOT NULL,
    effective json NOT NULL,
    cause character varying(16) NOT NULL,
    author character varying(63) NOT NULL,
    role character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    comment text NOT NULL
);


--
-- Name: rooms; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE rooms (
    site_id character varying(63) NOT NULL,
    room_id character varying(63) NOT NULL,
    name character varying(200) NOT NULL,
    online boolean NOT NULL,
    last_status_at timestamp with time zone,
    boot character varying(64),
    keepalive integer,
    agent_version character varying(64),
    families json,
    status_era integer,
    status_boot_no integer,
    status_conn integer,
    status_rank integer,
    last_seen_at timestamp with time zone,
    clock_suspects integer DEFAULT 0 NOT NULL,
    clock_skew_s double precision,
    clock_suspect_at timestamp with time zone,
    config_version_pushed integer NOT NULL,
    config_settings json,
    config_version_applied integer,
    config_applied_ok boolean,
    config_applied_text text,
    config_refused_version integer,
    applied_era integer,
    applied_boot_no integer,
    applied_n integer
);


--
-- Name: site_config_versions; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE site_config_versions (
    site character varying(63) NOT NULL,
    version integer NOT NULL,
    document json NOT NULL,
    author character varying(63) NOT NULL,
    role character varying(16) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    comment text NOT NULL
);


--
-- Name: sites; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE sites (
    id character varying(63) NOT NULL,
    name character varying(200) NOT NULL
);


--
-- Name: telemetry; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE telemetry (
    id bigint NOT NULL,
    agent character varying(127) NOT NULL,
    boot character varying(64) NOT NULL,
    seq bigint NOT NULL,
    device character varying(63) NOT NULL,
    metric character varying(63) NOT NULL,
    value double precision NOT NULL,
    ts timestamp with time zone NOT NULL
);


--
-- Name: telemetry_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE telemetry_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: telemetry_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE telemetry_id_seq OWNED BY telemetry.id;


--
-- Name: usage_daily; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE usage_daily (
    site character varying(63) NOT NULL,
    day date NOT NULL,
    room character varying(63) NOT NULL,
    device character varying(63) NOT NULL,
    part character varying(63) NOT NULL,
    kind character varying(16) NOT NULL,
    covered_s double precision DEFAULT '0'::double precision NOT NULL,
    on_s double precision DEFAULT '0'::double precision NOT NULL,
    empty_s double precision DEFAULT '0'::double precision NOT NULL,
    closed_s double precision DEFAULT '0'::double precision NOT NULL,
    waste_s double precision DEFAULT '0'::double precision NOT NULL,
    energy_wh double precision DEFAULT '0'::double precision NOT NULL,
    waste_wh double precision DEFAULT '0'::double precision NOT NULL,
    occupied_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1000_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1500_s double precision DEFAULT '0'::double precision NOT NULL,
    temp_sum double precision DEFAULT '0'::double precision NOT NULL,
    temp_n integer DEFAULT 0 NOT NULL,
    noise_sum double precision DEFAULT '0'::double precision NOT NULL,
    noise_n integer DEFAULT 0 NOT NULL,
    lamp_h double precision,
    filter_h double precision
);


--
-- Name: usage_hourly; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE usage_hourly (
    site character varying(63) NOT NULL,
    hour timestamp with time zone NOT NULL,
    room character varying(63) NOT NULL,
    device character varying(63) NOT NULL,
    part character varying(63) NOT NULL,
    kind character varying(16) NOT NULL,
    covered_s double precision DEFAULT '0'::double precision NOT NULL,
    on_s double precision DEFAULT '0'::double precision NOT NULL,
    empty_s double precision DEFAULT '0'::double precision NOT NULL,
    closed_s double precision DEFAULT '0'::double precision NOT NULL,
    waste_s double precision DEFAULT '0'::double precision NOT NULL,
    energy_wh double precision DEFAULT '0'::double precision NOT NULL,
    waste_wh double precision DEFAULT '0'::double precision NOT NULL,
    occupied_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1000_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1500_s double precision DEFAULT '0'::double precision NOT NULL,
    temp_sum double precision DEFAULT '0'::double precision NOT NULL,
    temp_n integer DEFAULT 0 NOT NULL,
    noise_sum double precision DEFAULT '0'::double precision NOT NULL,
    noise_n integer DEFAULT 0 NOT NULL,
    lamp_h double precision,
    filter_h double precision
);


--
-- Name: usage_room_daily; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE usage_room_daily (
    site character varying(63) NOT NULL,
    day date NOT NULL,
    room character varying(63) NOT NULL,
    covered_s double precision DEFAULT '0'::double precision NOT NULL,
    occupied_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1000_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1500_s double precision DEFAULT '0'::double precision NOT NULL
);


--
-- Name: usage_site_daily; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE usage_site_daily (
    site character varying(63) NOT NULL,
    day date NOT NULL,
    kind character varying(16) NOT NULL,
    device character varying(63) NOT NULL,
    part character varying(63) NOT NULL,
    covered_s double precision DEFAULT '0'::double precision NOT NULL,
    on_s double precision DEFAULT '0'::double precision NOT NULL,
    empty_s double precision DEFAULT '0'::double precision NOT NULL,
    closed_s double precision DEFAULT '0'::double precision NOT NULL,
    waste_s double precision DEFAULT '0'::double precision NOT NULL,
    energy_wh double precision DEFAULT '0'::double precision NOT NULL,
    waste_wh double precision DEFAULT '0'::double precision NOT NULL,
    occupied_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1000_s double precision DEFAULT '0'::double precision NOT NULL,
    co2_1500_s double precision DEFAULT '0'::double precision NOT NULL,
    temp_sum double precision DEFAULT '0'::double precision NOT NULL,
    temp_n integer DEFAULT 0 NOT NULL,
    noise_sum double precision DEFAULT '0'::double precision NOT NULL,
    noise_n integer DEFAULT 0 NOT NULL
);


--
-- Name: user_rooms; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE user_rooms (
    user_id integer NOT NULL,
    site_id character varying(63) NOT NULL,
    room_id character varying(63) NOT NULL
);


--
-- Name: user_sites; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE user_sites (
    user_id integer NOT NULL,
    site_id character varying(63) NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE users (
    id integer NOT NULL,
    username character varying(63) NOT NULL,
    display_name character varying(200) NOT NULL,
    role character varying(16) NOT NULL,
    password_hash character varying(255) NOT NULL,
    disabled boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    password_changed_at timestamp with time zone NOT NULL,
    last_login_at timestamp with time zone
);


--
-- Name: users_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE users_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: users_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE users_id_seq OWNED BY users.id;


--
-- Name: web_sessions; Type: TABLE; Schema: previous_release; Owner: -
--

CREATE TABLE web_sessions (
    id integer NOT NULL,
    user_id integer NOT NULL,
    digest character varying(64) NOT NULL,
    csrf character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_used_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    address character varying(64) NOT NULL
);


--
-- Name: web_sessions_id_seq; Type: SEQUENCE; Schema: previous_release; Owner: -
--

CREATE SEQUENCE web_sessions_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: web_sessions_id_seq; Type: SEQUENCE OWNED BY; Schema: previous_release; Owner: -
--

ALTER SEQUENCE web_sessions_id_seq OWNED BY web_sessions.id;


--
-- Name: alert_transitions id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY alert_transitions ALTER COLUMN id SET DEFAULT nextval('alert_transitions_id_seq'::regclass);


--
-- Name: alerts id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY alerts ALTER COLUMN id SET DEFAULT nextval('alerts_id_seq'::regclass);


--
-- Name: api_tokens id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY api_tokens ALTER COLUMN id SET DEFAULT nextval('api_tokens_id_seq'::regclass);


--
-- Name: audit_log id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq'::regclass);


--
-- Name: dead_letters id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY dead_letters ALTER COLUMN id SET DEFAULT nextval('dead_letters_id_seq'::regclass);


--
-- Name: events id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY events ALTER COLUMN id SET DEFAULT nextval('events_id_seq'::regclass);


--
-- Name: telemetry id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY telemetry ALTER COLUMN id SET DEFAULT nextval('telemetry_id_seq'::regclass);


--
-- Name: users id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY users ALTER COLUMN id SET DEFAULT nextval('users_id_seq'::regclass);


--
-- Name: web_sessions id; Type: DEFAULT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY web_sessions ALTER COLUMN id SET DEFAULT nextval('web_sessions_id_seq'::regclass);


--
-- Data for Name: agent_health; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO agent_health VALUES ('thcs-nguyen-chi-thanh', '6a1', 'b2', 0, 2, 1, '{"ts": "2025-03-03T01:00:00Z", "boot": "b2", "boot_no": 2, "n": 1, "started_at": "2025-03-03T01:00:00Z", "last_seq": 4, "previous_boot": "b1", "previous_last_seq": 31, "outbox": {"backlog": 0, "parked": 0, "oldest_s": 0.0, "storage_ok": true, "storage_text": ""}, "losses": [], "clock_offset_s": null}', NULL, '2025-03-03 08:00:30+07');


--
-- Data for Name: alert_transitions; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO alert_transitions VALUES (1, 1, '2025-03-03 08:00:31+07', 'raised', '', '', 'thcs-nguyen-chi-thanh/6a1/b1/31', '{}');
INSERT INTO alert_transitions VALUES (2, 1, '2025-03-03 08:00:40+07', 'acknowledged', 'lan', 'đang đến', NULL, '{}');
INSERT INTO alert_transitions VALUES (3, 2, '2025-03-03 08:00:45+07', 'raised', '', '', NULL, '{}');
INSERT INTO alert_transitions VALUES (4, 2, '2025-03-03 08:00:50+07', 'resolved', 'lan', 'đã sửa', NULL, '{}');


--
-- Data for Name: alerts; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO alerts VALUES (1, 'help', 'warning', 'thcs-nguyen-chi-thanh', '6a1', '', 'acknowledged', true, '2025-03-03 08:00:31+07', '2025-03-03 08:00:31+07', NULL, 0, 'Cô ơi', '{}', 'thcs-nguyen-chi-thanh/6a1/b1/31', NULL, 'lan', '2025-03-03 08:00:40+07', 'đang đến', NULL, NULL, NULL, NULL);
INSERT INTO alerts VALUES (2, 'agent_offline', 'critical', 'thcs-nguyen-chi-thanh', '6a2', '', 'resolved', false, '2025-03-03 08:00:45+07', '2025-03-03 08:00:45+07', '2025-03-03 08:00:50+07', 0, 'offline', '{}', '', NULL, NULL, NULL, NULL, 'lan', '2025-03-03 08:00:50+07', 'đã sửa', NULL);


--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO api_tokens VALUES (1, 1, 'bao-cao-dem', '6cbb71ad4f6eb931d5e0ce16549ccbe9e46cd772aa6087441735a542d06573aa', '2026-12-02 09:13:56.59068+07', NULL, NULL, NULL);


--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO audit_log VALUES (1, '2026-12-02 09:13:56.801548+07', 'thu', 'teacher', 'session', '192.0.2.10', 'login', NULL, NULL, NULL, 'ok', NULL, '{}');
INSERT INTO audit_log VALUES (2, '2026-12-02 09:13:56.806097+07', 'thu', '', '', '', 'login', NULL, NULL, NULL, 'bad_password', NULL, '{}');
INSERT INTO audit_log VALUES (3, '2026-12-02 09:13:56.808697+07', 'thu', 'teacher', 'session', '', 'command', 'thcs-nguyen-chi-thanh', '6a1', 'lights', 'ok', 12.5, '{"action": "scene", "params": {"scene": "off"}}');


--
-- Data for Name: boots; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO boots VALUES ('thcs-nguyen-chi-thanh/6a1', 'b1', 1, 0, '2025-03-03 08:00:30+07', '2025-03-03 08:00:30+07', '[[1, 6], [9, 31]]', 0, 31, '[[8, 8]]', 1, 31, '[[7, 7]]', 1);
INSERT INTO boots VALUES ('thcs-nguyen-chi-thanh/6a1', 'b2', 2, 0, '2025-03-03 08:00:30+07', '2025-03-03 08:00:30+07', '[[1, 4]]', 0, 4, '[]', 0, 4, '[]', 0);
INSERT INTO boots VALUES ('thcs-nguyen-chi-thanh/6a2', 'b1', 0, 0, '2025-03-03 08:00:30+07', '2025-03-03 08:00:30+07', '[[1, 5]]', 0, 5, '[]', 0, NULL, '[]', 0);
INSERT INTO boots VALUES ('thcs-nguyen-chi-thanh/9a1', 'c1', 1, 0, '2025-03-03 08:00:30+07', '2025-03-03 08:00:30+07', '[[1, 32]]', 0, 32, '[]', 0, NULL, '[]', 0);


--
-- Data for Name: commands; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO commands VALUES ('cmd-0001', 'thcs-nguyen-chi-thanh', '6a1', 'lights', 'scene', '{"scene": "projection"}', 'giao-vien-lan', '2025-03-03 08:00:50+07', '2025-03-03 08:01:00+07', 'ok', 'đã chiếu', '2025-03-03 08:00:30+07');


--
-- Data for Name: dead_letters; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO dead_letters VALUES (1, 'sc/thcs-nguyen-chi-thanh/6a1/telemetry', '\x7b6e6f74206a736f6e', 9, 'bad_json', 'invalid Telemetry payload: (payload): Invalid JSON: key must be a string at line 1 column 2', '2025-03-03 08:00:30+07');
INSERT INTO dead_letters VALUES (2, 'sc/thcs-nguyen-chi-thanh/x9/telemetry', '\x7b2276223a332c227473223a22323032352d30332d30335430313a30303a35305a222c2273656e646572223a226875622d74657374222c226964223a22636d642d30303031222c22646576696365223a226c6967687473222c22616374696f6e223a227363656e65222c22706172616d73223a7b227363656e65223a2270726f6a656374696f6e227d2c22697373756572223a226769616f2d7669656e2d6c616e222c2265787069726573223a22323032352d30332d30335430313a30313a30305a222c227265706c795f746f223a226875622d74657374227d', 218, 'unknown_room', 'room thcs-nguyen-chi-thanh/x9 is not registered', '2025-03-03 08:00:30+07');
INSERT INTO dead_letters VALUES (3, 'sc/thcs-nguyen-chi-thanh/6a1/event', '\x00ff2062696e617279', 9, 'bad_json', 'invalid Event payload: (payload): Invalid JSON: expected value at line 1 column 1', '2025-03-03 08:00:30+07');


--
-- Data for Name: device_state; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO device_state VALUES ('thcs-nguyen-chi-thanh', '6a1', 'lights', 'lights', '{"scene": "lesson", "on": true}', true, '2025-03-03 08:00:00+07', 0, 1, 1);


--
-- Data for Name: events; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO events VALUES (1, 'thcs-nguyen-chi-thanh/6a1', 'b1', 31, 'help', 'info', NULL, 'Cô ơi, máy chiếu không lên', '{}', '2025-03-03 08:00:31+07');
INSERT INTO events VALUES (2, 'thcs-nguyen-chi-thanh/6a1', 'b2', 4, 'stale_air', 'info', NULL, 'CO2 cao', '{}', '2025-03-03 08:00:42+07');


--
-- Data for Name: latest_readings; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/6a1', 'air', 'co2_ppm', 1250.5, '2025-03-03 08:00:41+07', 0, 2, 2);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/6a1', 'env', 'co2_ppm', 403, '2025-03-04 08:00:00+07', 0, 2, 3);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/6a1', 'env', 'temperature_c', 25, '2025-03-04 08:00:00+07', 0, 2, 3);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/6a2', 'env', 'co2_ppm', 405, '2025-03-03 08:00:05+07', 0, 0, 5);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/6a2', 'env', 'temperature_c', 25, '2025-03-03 08:00:05+07', 0, 0, 5);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'air', 'co2_ppm', 1600, '2025-03-03 07:50:00+07', 0, 1, 32);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'air', 'temperature_c', 29.5, '2025-03-03 07:50:00+07', 0, 1, 32);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'lights', 'level_back_pct', 50, '2025-03-03 07:50:00+07', 0, 1, 31);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'lights', 'level_front_pct', 100, '2025-03-03 07:50:00+07', 0, 1, 31);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'presence', 'occupied', 0, '2025-03-03 07:50:00+07', 0, 1, 29);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'projector', 'filter_hours', 300, '2025-03-03 07:50:00+07', 0, 1, 30);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'projector', 'lamp_hours', 1201, '2025-03-03 07:50:00+07', 0, 1, 30);
INSERT INTO latest_readings VALUES ('thcs-nguyen-chi-thanh/9a1', 'projector', 'power_on', 0, '2025-03-03 07:50:00+07', 0, 1, 30);


--
-- Data for Name: room_config_versions; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO room_config_versions VALUES ('thcs-nguyen-chi-thanh', '6a1', 1, '{}', 1, '{"settings": {"telemetry_interval_s": 10.0}}', 'school', 'lan', 'it', '2026-12-02 09:13:56.125246+07', 'cả trường');
INSERT INTO room_config_versions VALUES ('thcs-nguyen-chi-thanh', '6a2', 1, '{}', 1, '{"settings": {"telemetry_interval_s": 10.0}}', 'school', 'lan', 'it', '2026-12-02 09:13:56.125246+07', 'cả trường');
INSERT INTO room_config_versions VALUES ('thcs-nguyen-chi-thanh', '9a1', 1, '{}', 1, '{"settings": {"telemetry_interval_s": 10.0}}', 'school', 'lan', 'it', '2026-12-02 09:13:56.125246+07', 'cả trường');
INSERT INTO room_config_versions VALUES ('thcs-nguyen-chi-thanh', '6a1', 2, '{"settings": {"telemetry_interval_s": 5}}', 1, '{"settings": {"telemetry_interval_s": 5.0}}', 'room', 'lan', 'it', '2026-12-02 09:13:56.146997+07', '');


--
-- Data for Name: rooms; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO rooms VALUES ('thpt-vo-truong-toan', '10a1', '10A1', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO rooms VALUES ('thcs-nguyen-chi-thanh', '6a1', '6a1', true, '2025-03-03 08:00:30+07', 'b2', 5, '0.1.0', '{"env": "environment", "lights": "lights"}', 0, 2, 1, 0, '2025-03-03 08:00:30+07', 1, 86370, '2025-03-03 08:00:30+07', 2, '{"telemetry_interval_s": 5.0}', 2, true, '', 0, 0, 1, 1);
INSERT INTO rooms VALUES ('thcs-nguyen-chi-thanh', '6a2', '6a2', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2025-03-03 08:00:30+07', 0, NULL, NULL, 1, '{"telemetry_interval_s": 10.0}', 0, false, 'không lưu được', 1, 0, 0, 1);
INSERT INTO rooms VALUES ('thcs-nguyen-chi-thanh', '9a1', '9a1', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2025-03-03 08:00:30+07', 0, NULL, NULL, 1, '{"telemetry_interval_s": 10.0}', NULL, NULL, NULL, NULL, NULL, NULL, NULL);


--
-- Data for Name: site_config_versions; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO site_config_versions VALUES ('thcs-nguyen-chi-thanh', 1, '{"settings": {"telemetry_interval_s": 10}}', 'lan', 'it', '2026-12-02 09:13:56.125246+07', 'cả trường');


--
-- Data for Name: sites; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO sites VALUES ('thpt-vo-truong-toan', 'THPT Võ Trường Toản');
INSERT INTO sites VALUES ('thcs-nguyen-chi-thanh', 'THCS Nguyễn Chí Thanh');


--
-- Data for Name: telemetry; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO telemetry VALUES (1, 'thcs-nguyen-chi-thanh/6a1', 'b1', 1, 'env', 'co2_ppm', 401, '2025-03-03 08:00:01+07');
INSERT INTO telemetry VALUES (2, 'thcs-nguyen-chi-thanh/6a1', 'b1', 1, 'env', 'temperature_c', 25, '2025-03-03 08:00:01+07');
INSERT INTO telemetry VALUES (3, 'thcs-nguyen-chi-thanh/6a1', 'b1', 2, 'env', 'co2_ppm', 402, '2025-03-03 08:00:02+07');
INSERT INTO telemetry VALUES (4, 'thcs-nguyen-chi-thanh/6a1', 'b1', 2, 'env', 'temperature_c', 25, '2025-03-03 08:00:02+07');
INSERT INTO telemetry VALUES (5, 'thcs-nguyen-chi-thanh/6a1', 'b1', 3, 'env', 'co2_ppm', 403, '2025-03-03 08:00:03+07');
INSERT INTO telemetry VALUES (6, 'thcs-nguyen-chi-thanh/6a1', 'b1', 3, 'env', 'temperature_c', 25, '2025-03-03 08:00:03+07');
INSERT INTO telemetry VALUES (7, 'thcs-nguyen-chi-thanh/6a1', 'b1', 4, 'env', 'co2_ppm', 404, '2025-03-03 08:00:04+07');
INSERT INTO telemetry VALUES (8, 'thcs-nguyen-chi-thanh/6a1', 'b1', 4, 'env', 'temperature_c', 25, '2025-03-03 08:00:04+07');
INSERT INTO telemetry VALUES (9, 'thcs-nguyen-chi-thanh/6a1', 'b1', 5, 'env', 'co2_ppm', 405, '2025-03-03 08:00:05+07');
INSERT INTO telemetry VALUES (10, 'thcs-nguyen-chi-thanh/6a1', 'b1', 5, 'env', 'temperature_c', 25, '2025-03-03 08:00:05+07');
INSERT INTO telemetry VALUES (11, 'thcs-nguyen-chi-thanh/6a1', 'b1', 6, 'env', 'co2_ppm', 406, '2025-03-03 08:00:06+07');
INSERT INTO telemetry VALUES (12, 'thcs-nguyen-chi-thanh/6a1', 'b1', 6, 'env', 'temperature_c', 25, '2025-03-03 08:00:06+07');
INSERT INTO telemetry VALUES (13, 'thcs-nguyen-chi-thanh/6a1', 'b1', 9, 'env', 'co2_ppm', 409, '2025-03-03 08:00:09+07');
INSERT INTO telemetry VALUES (14, 'thcs-nguyen-chi-thanh/6a1', 'b1', 9, 'env', 'temperature_c', 25, '2025-03-03 08:00:09+07');
INSERT INTO telemetry VALUES (15, 'thcs-nguyen-chi-thanh/6a1', 'b1', 10, 'env', 'co2_ppm', 410, '2025-03-03 08:00:10+07');
INSERT INTO telemetry VALUES (16, 'thcs-nguyen-chi-thanh/6a1', 'b1', 10, 'env', 'temperature_c', 25, '2025-03-03 08:00:10+07');
INSERT INTO telemetry VALUES (17, 'thcs-nguyen-chi-thanh/6a1', 'b1', 11, 'env', 'co2_ppm', 411, '2025-03-03 08:00:11+07');
INSERT INTO telemetry VALUES (18, 'thcs-nguyen-chi-thanh/6a1', 'b1', 11, 'env', 'temperature_c', 25, '2025-03-03 08:00:11+07');
INSERT INTO telemetry VALUES (19, 'thcs-nguyen-chi-thanh/6a1', 'b1', 12, 'env', 'co2_ppm', 412, '2025-03-03 08:00:12+07');
INSERT INTO telemetry VALUES (20, 'thcs-nguyen-chi-thanh/6a1', 'b1', 12, 'env', 'temperature_c', 25, '2025-03-03 08:00:12+07');
INSERT INTO telemetry VALUES (21, 'thcs-nguyen-chi-thanh/6a1', 'b1', 13, 'env', 'co2_ppm', 413, '2025-03-03 08:00:13+07');
INSERT INTO telemetry VALUES (22, 'thcs-nguyen-chi-thanh/6a1', 'b1', 13, 'env', 'temperature_c', 25, '2025-03-03 08:00:13+07');
INSERT INTO telemetry VALUES (23, 'thcs-nguyen-chi-thanh/6a1', 'b1', 14, 'env', 'co2_ppm', 414, '2025-03-03 08:00:14+07');
INSERT INTO telemetry VALUES (24, 'thcs-nguyen-chi-thanh/6a1', 'b1', 14, 'env', 'temperature_c', 25, '2025-03-03 08:00:14+07');
INSERT INTO telemetry VALUES (25, 'thcs-nguyen-chi-thanh/6a1', 'b1', 15, 'env', 'co2_ppm', 415, '2025-03-03 08:00:15+07');
INSERT INTO telemetry VALUES (26, 'thcs-nguyen-chi-thanh/6a1', 'b1', 15, 'env', 'temperature_c', 25, '2025-03-03 08:00:15+07');
INSERT INTO telemetry VALUES (27, 'thcs-nguyen-chi-thanh/6a1', 'b1', 16, 'env', 'co2_ppm', 416, '2025-03-03 08:00:16+07');
INSERT INTO telemetry VALUES (28, 'thcs-nguyen-chi-thanh/6a1', 'b1', 16, 'env', 'temperature_c', 25, '2025-03-03 08:00:16+07');
INSERT INTO telemetry VALUES (29, 'thcs-nguyen-chi-thanh/6a1', 'b1', 17, 'env', 'co2_ppm', 417, '2025-03-03 08:00:17+07');
INSERT INTO telemetry VALUES (30, 'thcs-nguyen-chi-thanh/6a1', 'b1', 17, 'env', 'temperature_c', 25, '2025-03-03 08:00:17+07');
INSERT INTO telemetry VALUES (31, 'thcs-nguyen-chi-thanh/6a1', 'b1', 18, 'env', 'co2_ppm', 418, '2025-03-03 08:00:18+07');
INSERT INTO telemetry VALUES (32, 'thcs-nguyen-chi-thanh/6a1', 'b1', 18, 'env', 'temperature_c', 25, '2025-03-03 08:00:18+07');
INSERT INTO telemetry VALUES (33, 'thcs-nguyen-chi-thanh/6a1', 'b1', 19, 'env', 'co2_ppm', 419, '2025-03-03 08:00:19+07');
INSERT INTO telemetry VALUES (34, 'thcs-nguyen-chi-thanh/6a1', 'b1', 19, 'env', 'temperature_c', 25, '2025-03-03 08:00:19+07');
INSERT INTO telemetry VALUES (35, 'thcs-nguyen-chi-thanh/6a1', 'b1', 20, 'env', 'co2_ppm', 420, '2025-03-03 08:00:20+07');
INSERT INTO telemetry VALUES (36, 'thcs-nguyen-chi-thanh/6a1', 'b1', 20, 'env', 'temperature_c', 25, '2025-03-03 08:00:20+07');
INSERT INTO telemetry VALUES (37, 'thcs-nguyen-chi-thanh/6a1', 'b1', 21, 'env', 'co2_ppm', 421, '2025-03-03 08:00:21+07');
INSERT INTO telemetry VALUES (38, 'thcs-nguyen-chi-thanh/6a1', 'b1', 21, 'env', 'temperature_c', 25, '2025-03-03 08:00:21+07');
INSERT INTO telemetry VALUES (39, 'thcs-nguyen-chi-thanh/6a1', 'b1', 22, 'env', 'co2_ppm', 422, '2025-03-03 08:00:22+07');
INSERT INTO telemetry VALUES (40, 'thcs-nguyen-chi-thanh/6a1', 'b1', 22, 'env', 'temperature_c', 25, '2025-03-03 08:00:22+07');
INSERT INTO telemetry VALUES (41, 'thcs-nguyen-chi-thanh/6a1', 'b1', 23, 'env', 'co2_ppm', 423, '2025-03-03 08:00:23+07');
INSERT INTO telemetry VALUES (42, 'thcs-nguyen-chi-thanh/6a1', 'b1', 23, 'env', 'temperature_c', 25, '2025-03-03 08:00:23+07');
INSERT INTO telemetry VALUES (43, 'thcs-nguyen-chi-thanh/6a1', 'b1', 24, 'env', 'co2_ppm', 424, '2025-03-03 08:00:24+07');
INSERT INTO telemetry VALUES (44, 'thcs-nguyen-chi-thanh/6a1', 'b1', 24, 'env', 'temperature_c', 25, '2025-03-03 08:00:24+07');
INSERT INTO telemetry VALUES (45, 'thcs-nguyen-chi-thanh/6a1', 'b1', 25, 'env', 'co2_ppm', 425, '2025-03-03 08:00:25+07');
INSERT INTO telemetry VALUES (46, 'thcs-nguyen-chi-thanh/6a1', 'b1', 25, 'env', 'temperature_c', 25, '2025-03-03 08:00:25+07');
INSERT INTO telemetry VALUES (47, 'thcs-nguyen-chi-thanh/6a1', 'b1', 26, 'env', 'co2_ppm', 426, '2025-03-03 08:00:26+07');
INSERT INTO telemetry VALUES (48, 'thcs-nguyen-chi-thanh/6a1', 'b1', 26, 'env', 'temperature_c', 25, '2025-03-03 08:00:26+07');
INSERT INTO telemetry VALUES (49, 'thcs-nguyen-chi-thanh/6a1', 'b1', 27, 'env', 'co2_ppm', 427, '2025-03-03 08:00:27+07');
INSERT INTO telemetry VALUES (50, 'thcs-nguyen-chi-thanh/6a1', 'b1', 27, 'env', 'temperature_c', 25, '2025-03-03 08:00:27+07');
INSERT INTO telemetry VALUES (51, 'thcs-nguyen-chi-thanh/6a1', 'b1', 28, 'env', 'co2_ppm', 428, '2025-03-03 08:00:28+07');
INSERT INTO telemetry VALUES (52, 'thcs-nguyen-chi-thanh/6a1', 'b1', 28, 'env', 'temperature_c', 25, '2025-03-03 08:00:28+07');
INSERT INTO telemetry VALUES (53, 'thcs-nguyen-chi-thanh/6a1', 'b1', 29, 'env', 'co2_ppm', 429, '2025-03-03 08:00:29+07');
INSERT INTO telemetry VALUES (54, 'thcs-nguyen-chi-thanh/6a1', 'b1', 29, 'env', 'temperature_c', 25, '2025-03-03 08:00:29+07');
INSERT INTO telemetry VALUES (55, 'thcs-nguyen-chi-thanh/6a1', 'b1', 30, 'env', 'co2_ppm', 430, '2025-03-03 08:00:30+07');
INSERT INTO telemetry VALUES (56, 'thcs-nguyen-chi-thanh/6a1', 'b1', 30, 'env', 'temperature_c', 25, '2025-03-03 08:00:30+07');
INSERT INTO telemetry VALUES (57, 'thcs-nguyen-chi-thanh/6a1', 'b2', 1, 'env', 'co2_ppm', 401, '2025-03-03 08:00:40+07');
INSERT INTO telemetry VALUES (58, 'thcs-nguyen-chi-thanh/6a1', 'b2', 1, 'env', 'temperature_c', 25, '2025-03-03 08:00:40+07');
INSERT INTO telemetry VALUES (59, 'thcs-nguyen-chi-thanh/6a1', 'b2', 2, 'air', 'co2_ppm', 1250.5, '2025-03-03 08:00:41+07');
INSERT INTO telemetry VALUES (60, 'thcs-nguyen-chi-thanh/6a1', 'b2', 3, 'env', 'co2_ppm', 403, '2025-03-04 08:00:00+07');
INSERT INTO telemetry VALUES (61, 'thcs-nguyen-chi-thanh/6a1', 'b2', 3, 'env', 'temperature_c', 25, '2025-03-04 08:00:00+07');
INSERT INTO telemetry VALUES (62, 'thcs-nguyen-chi-thanh/6a2', 'b1', 1, 'env', 'co2_ppm', 401, '2025-03-03 08:00:01+07');
INSERT INTO telemetry VALUES (63, 'thcs-nguyen-chi-thanh/6a2', 'b1', 1, 'env', 'temperature_c', 25, '2025-03-03 08:00:01+07');
INSERT INTO telemetry VALUES (64, 'thcs-nguyen-chi-thanh/6a2', 'b1', 2, 'env', 'co2_ppm', 402, '2025-03-03 08:00:02+07');
INSERT INTO telemetry VALUES (65, 'thcs-nguyen-chi-thanh/6a2', 'b1', 2, 'env', 'temperature_c', 25, '2025-03-03 08:00:02+07');
INSERT INTO telemetry VALUES (66, 'thcs-nguyen-chi-thanh/6a2', 'b1', 3, 'env', 'co2_ppm', 403, '2025-03-03 08:00:03+07');
INSERT INTO telemetry VALUES (67, 'thcs-nguyen-chi-thanh/6a2', 'b1', 3, 'env', 'temperature_c', 25, '2025-03-03 08:00:03+07');
INSERT INTO telemetry VALUES (68, 'thcs-nguyen-chi-thanh/6a2', 'b1', 4, 'env', 'co2_ppm', 404, '2025-03-03 08:00:04+07');
INSERT INTO telemetry VALUES (69, 'thcs-nguyen-chi-thanh/6a2', 'b1', 4, 'env', 'temperature_c', 25, '2025-03-03 08:00:04+07');
INSERT INTO telemetry VALUES (70, 'thcs-nguyen-chi-thanh/6a2', 'b1', 5, 'env', 'co2_ppm', 405, '2025-03-03 08:00:05+07');
INSERT INTO telemetry VALUES (71, 'thcs-nguyen-chi-thanh/6a2', 'b1', 5, 'env', 'temperature_c', 25, '2025-03-03 08:00:05+07');
INSERT INTO telemetry VALUES (72, 'thcs-nguyen-chi-thanh/9a1', 'c1', 1, 'presence', 'occupied', 1, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (73, 'thcs-nguyen-chi-thanh/9a1', 'c1', 2, 'projector', 'power_on', 0, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (74, 'thcs-nguyen-chi-thanh/9a1', 'c1', 2, 'projector', 'lamp_hours', 1200, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (75, 'thcs-nguyen-chi-thanh/9a1', 'c1', 2, 'projector', 'filter_hours', 300, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (76, 'thcs-nguyen-chi-thanh/9a1', 'c1', 3, 'lights', 'level_front_pct', 100, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (77, 'thcs-nguyen-chi-thanh/9a1', 'c1', 3, 'lights', 'level_back_pct', 0, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (78, 'thcs-nguyen-chi-thanh/9a1', 'c1', 4, 'air', 'co2_ppm', 900, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (79, 'thcs-nguyen-chi-thanh/9a1', 'c1', 4, 'air', 'temperature_c', 29.5, '2025-03-03 06:40:00+07');
INSERT INTO telemetry VALUES (80, 'thcs-nguyen-chi-thanh/9a1', 'c1', 5, 'presence', 'occupied', 1, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (81, 'thcs-nguyen-chi-thanh/9a1', 'c1', 6, 'projector', 'power_on', 1, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (82, 'thcs-nguyen-chi-thanh/9a1', 'c1', 6, 'projector', 'lamp_hours', 1200, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (83, 'thcs-nguyen-chi-thanh/9a1', 'c1', 6, 'projector', 'filter_hours', 300, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (84, 'thcs-nguyen-chi-thanh/9a1', 'c1', 7, 'lights', 'level_front_pct', 100, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (85, 'thcs-nguyen-chi-thanh/9a1', 'c1', 7, 'lights', 'level_back_pct', 0, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (86, 'thcs-nguyen-chi-thanh/9a1', 'c1', 8, 'air', 'co2_ppm', 900, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (87, 'thcs-nguyen-chi-thanh/9a1', 'c1', 8, 'air', 'temperature_c', 29.5, '2025-03-03 06:50:00+07');
INSERT INTO telemetry VALUES (88, 'thcs-nguyen-chi-thanh/9a1', 'c1', 9, 'presence', 'occupied', 1, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (89, 'thcs-nguyen-chi-thanh/9a1', 'c1', 10, 'projector', 'power_on', 1, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (90, 'thcs-nguyen-chi-thanh/9a1', 'c1', 10, 'projector', 'lamp_hours', 1200, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (91, 'thcs-nguyen-chi-thanh/9a1', 'c1', 10, 'projector', 'filter_hours', 300, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (92, 'thcs-nguyen-chi-thanh/9a1', 'c1', 11, 'lights', 'level_front_pct', 100, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (93, 'thcs-nguyen-chi-thanh/9a1', 'c1', 11, 'lights', 'level_back_pct', 0, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (94, 'thcs-nguyen-chi-thanh/9a1', 'c1', 12, 'air', 'co2_ppm', 900, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (95, 'thcs-nguyen-chi-thanh/9a1', 'c1', 12, 'air', 'temperature_c', 29.5, '2025-03-03 07:00:00+07');
INSERT INTO telemetry VALUES (96, 'thcs-nguyen-chi-thanh/9a1', 'c1', 13, 'presence', 'occupied', 1, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (97, 'thcs-nguyen-chi-thanh/9a1', 'c1', 14, 'projector', 'power_on', 1, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (98, 'thcs-nguyen-chi-thanh/9a1', 'c1', 14, 'projector', 'lamp_hours', 1200, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (99, 'thcs-nguyen-chi-thanh/9a1', 'c1', 14, 'projector', 'filter_hours', 300, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (100, 'thcs-nguyen-chi-thanh/9a1', 'c1', 15, 'lights', 'level_front_pct', 100, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (101, 'thcs-nguyen-chi-thanh/9a1', 'c1', 15, 'lights', 'level_back_pct', 0, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (102, 'thcs-nguyen-chi-thanh/9a1', 'c1', 16, 'air', 'co2_ppm', 1300, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (103, 'thcs-nguyen-chi-thanh/9a1', 'c1', 16, 'air', 'temperature_c', 29.5, '2025-03-03 07:10:00+07');
INSERT INTO telemetry VALUES (104, 'thcs-nguyen-chi-thanh/9a1', 'c1', 17, 'presence', 'occupied', 1, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (105, 'thcs-nguyen-chi-thanh/9a1', 'c1', 18, 'projector', 'power_on', 1, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (106, 'thcs-nguyen-chi-thanh/9a1', 'c1', 18, 'projector', 'lamp_hours', 1201, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (107, 'thcs-nguyen-chi-thanh/9a1', 'c1', 18, 'projector', 'filter_hours', 300, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (108, 'thcs-nguyen-chi-thanh/9a1', 'c1', 19, 'lights', 'level_front_pct', 100, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (109, 'thcs-nguyen-chi-thanh/9a1', 'c1', 19, 'lights', 'level_back_pct', 0, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (110, 'thcs-nguyen-chi-thanh/9a1', 'c1', 20, 'air', 'co2_ppm', 1300, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (111, 'thcs-nguyen-chi-thanh/9a1', 'c1', 20, 'air', 'temperature_c', 29.5, '2025-03-03 07:20:00+07');
INSERT INTO telemetry VALUES (112, 'thcs-nguyen-chi-thanh/9a1', 'c1', 21, 'presence', 'occupied', 0, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (113, 'thcs-nguyen-chi-thanh/9a1', 'c1', 22, 'projector', 'power_on', 1, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (114, 'thcs-nguyen-chi-thanh/9a1', 'c1', 22, 'projector', 'lamp_hours', 1201, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (115, 'thcs-nguyen-chi-thanh/9a1', 'c1', 22, 'projector', 'filter_hours', 300, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (116, 'thcs-nguyen-chi-thanh/9a1', 'c1', 23, 'lights', 'level_front_pct', 100, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (117, 'thcs-nguyen-chi-thanh/9a1', 'c1', 23, 'lights', 'level_back_pct', 50, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (118, 'thcs-nguyen-chi-thanh/9a1', 'c1', 24, 'air', 'co2_ppm', 1600, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (119, 'thcs-nguyen-chi-thanh/9a1', 'c1', 24, 'air', 'temperature_c', 29.5, '2025-03-03 07:30:00+07');
INSERT INTO telemetry VALUES (120, 'thcs-nguyen-chi-thanh/9a1', 'c1', 25, 'presence', 'occupied', 0, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (121, 'thcs-nguyen-chi-thanh/9a1', 'c1', 26, 'projector', 'power_on', 0, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (122, 'thcs-nguyen-chi-thanh/9a1', 'c1', 26, 'projector', 'lamp_hours', 1201, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (123, 'thcs-nguyen-chi-thanh/9a1', 'c1', 26, 'projector', 'filter_hours', 300, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (124, 'thcs-nguyen-chi-thanh/9a1', 'c1', 27, 'lights', 'level_front_pct', 100, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (125, 'thcs-nguyen-chi-thanh/9a1', 'c1', 27, 'lights', 'level_back_pct', 50, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (126, 'thcs-nguyen-chi-thanh/9a1', 'c1', 28, 'air', 'co2_ppm', 1600, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (127, 'thcs-nguyen-chi-thanh/9a1', 'c1', 28, 'air', 'temperature_c', 29.5, '2025-03-03 07:40:00+07');
INSERT INTO telemetry VALUES (128, 'thcs-nguyen-chi-thanh/9a1', 'c1', 29, 'presence', 'occupied', 0, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (129, 'thcs-nguyen-chi-thanh/9a1', 'c1', 30, 'projector', 'power_on', 0, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (130, 'thcs-nguyen-chi-thanh/9a1', 'c1', 30, 'projector', 'lamp_hours', 1201, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (131, 'thcs-nguyen-chi-thanh/9a1', 'c1', 30, 'projector', 'filter_hours', 300, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (132, 'thcs-nguyen-chi-thanh/9a1', 'c1', 31, 'lights', 'level_front_pct', 100, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (133, 'thcs-nguyen-chi-thanh/9a1', 'c1', 31, 'lights', 'level_back_pct', 50, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (134, 'thcs-nguyen-chi-thanh/9a1', 'c1', 32, 'air', 'co2_ppm', 1600, '2025-03-03 07:50:00+07');
INSERT INTO telemetry VALUES (135, 'thcs-nguyen-chi-thanh/9a1', 'c1', 32, 'air', 'temperature_c', 29.5, '2025-03-03 07:50:00+07');


--
-- Data for Name: usage_daily; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO usage_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 'air', '', 'sensor', 4800, 0, 0, 0, 0, 0, 0, 0, 3000, 1800, 118, 4, 0, 0, NULL, NULL);
INSERT INTO usage_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 'lights', '', 'lighting', 4800, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 'lights', 'back', 'lighting', 0, 1800, 1800, 1200, 1800, 50, 50, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 'lights', 'front', 'lighting', 0, 4800, 1800, 1200, 1800, 133.33333333333334, 50, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 'presence', '', 'sensor', 4800, 0, 0, 0, 0, 0, 0, 3000, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 'projector', '', 'projector', 4800, 3000, 600, 0, 600, 208.33333333333331, 41.666666666666664, 0, 0, 0, 0, 0, 0, 0, 1201, 300);


--
-- Data for Name: usage_hourly; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 06:00:00+07', '9a1', 'air', '', 'sensor', 1800, 0, 0, 0, 0, 0, 0, 0, 0, 0, 59, 2, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 07:00:00+07', '9a1', 'air', '', 'sensor', 3000, 0, 0, 0, 0, 0, 0, 0, 3000, 1800, 59, 2, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 06:00:00+07', '9a1', 'lights', '', 'lighting', 1800, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 07:00:00+07', '9a1', 'lights', '', 'lighting', 3000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 07:00:00+07', '9a1', 'lights', 'back', 'lighting', 0, 1800, 1800, 1200, 1800, 50, 50, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 06:00:00+07', '9a1', 'lights', 'front', 'lighting', 0, 1800, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 07:00:00+07', '9a1', 'lights', 'front', 'lighting', 0, 3000, 1800, 1200, 1800, 83.33333333333334, 50, 0, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 06:00:00+07', '9a1', 'presence', '', 'sensor', 1800, 0, 0, 0, 0, 0, 0, 1800, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 07:00:00+07', '9a1', 'presence', '', 'sensor', 3000, 0, 0, 0, 0, 0, 0, 1200, 0, 0, 0, 0, 0, 0, NULL, NULL);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 06:00:00+07', '9a1', 'projector', '', 'projector', 1800, 1200, 0, 0, 0, 83.33333333333333, 0, 0, 0, 0, 0, 0, 0, 0, 1200, 300);
INSERT INTO usage_hourly VALUES ('thcs-nguyen-chi-thanh', '2025-03-03 07:00:00+07', '9a1', 'projector', '', 'projector', 3000, 1800, 600, 0, 600, 125, 41.666666666666664, 0, 0, 0, 0, 0, 0, 0, 1201, 300);


--
-- Data for Name: usage_room_daily; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO usage_room_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', '9a1', 4800, 3000, 3000, 1800);


--
-- Data for Name: usage_site_daily; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO usage_site_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', 'lighting', 'lights', '', 4800, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
INSERT INTO usage_site_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', 'lighting', 'lights', 'back', 0, 1800, 1800, 1200, 1800, 50, 50, 0, 0, 0, 0, 0, 0, 0);
INSERT INTO usage_site_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', 'lighting', 'lights', 'front', 0, 4800, 1800, 1200, 1800, 133.33333333333334, 50, 0, 0, 0, 0, 0, 0, 0);
INSERT INTO usage_site_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', 'projector', 'projector', '', 4800, 3000, 600, 0, 600, 208.33333333333331, 41.666666666666664, 0, 0, 0, 0, 0, 0, 0);
INSERT INTO usage_site_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', 'sensor', 'air', '', 4800, 0, 0, 0, 0, 0, 0, 0, 3000, 1800, 118, 4, 0, 0);
INSERT INTO usage_site_daily VALUES ('thcs-nguyen-chi-thanh', '2025-03-03', 'sensor', 'presence', '', 4800, 0, 0, 0, 0, 0, 0, 3000, 0, 0, 0, 0, 0, 0);


--
-- Data for Name: user_rooms; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO user_rooms VALUES (2, 'thcs-nguyen-chi-thanh', '6a1');


--
-- Data for Name: user_sites; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO user_sites VALUES (1, 'thcs-nguyen-chi-thanh');


--
-- Data for Name: users; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO users VALUES (1, 'lan', 'Cô Lan', 'it', '$argon2id$v=19$m=65536,t=3,p=4$RlL8wHbDkdFieX0YNL9Llg$IT8qUTT6LB+U202YdOOkrzIwxKaF27zPhTACtCCccTk', false, '2026-12-02 09:13:56.292352+07', '2026-12-02 09:13:56.292352+07', NULL);
INSERT INTO users VALUES (2, 'thu', '', 'teacher', '$argon2id$v=19$m=65536,t=3,p=4$u+nB4qMbki+y1+LHhCOUGw$Q9UOn0r+BILs6At/KEyn2vUmZTwGR3RFIGsuHLdDu4g', false, '2026-12-02 09:13:56.447973+07', '2026-12-02 09:13:56.447973+07', '2026-12-02 09:13:56.788765+07');


--
-- Data for Name: web_sessions; Type: TABLE DATA; Schema: previous_release; Owner: -
--

INSERT INTO web_sessions VALUES (1, 2, 'df0e1d6ec6d6b1de8462e5b2d66c92ee9b704807b54d4619349e78a1d7ae1d96', 'qLX3bMB7HvWQkKqDeOda-swF2STj_lR8212Wt-VsqC0', '2026-12-02 09:13:56.795497+07', '2026-12-02 09:13:56.795497+07', '2026-12-16 09:13:56.795497+07', '192.0.2.10');


--
-- Name: alert_transitions_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('alert_transitions_id_seq', 4, true);


--
-- Name: alerts_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('alerts_id_seq', 2, true);


--
-- Name: api_tokens_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('api_tokens_id_seq', 1, true);


--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('audit_log_id_seq', 3, true);


--
-- Name: dead_letters_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('dead_letters_id_seq', 3, true);


--
-- Name: events_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('events_id_seq', 2, true);


--
-- Name: telemetry_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('telemetry_id_seq', 135, true);


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('users_id_seq', 2, true);


--
-- Name: web_sessions_id_seq; Type: SEQUENCE SET; Schema: previous_release; Owner: -
--

SELECT pg_catalog.setval('web_sessions_id_seq', 1, true);


--
-- Name: agent_health agent_health_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY agent_health
    ADD CONSTRAINT agent_health_pkey PRIMARY KEY (site, room);


--
-- Name: alert_transitions alert_transitions_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY alert_transitions
    ADD CONSTRAINT alert_transitions_pkey PRIMARY KEY (id);


--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);


--
-- Name: api_tokens api_tokens_digest_key; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY api_tokens
    ADD CONSTRAINT api_tokens_digest_key UNIQUE (digest);


--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);


--
-- Name: boots boots_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY boots
    ADD CONSTRAINT boots_pkey PRIMARY KEY (agent, boot);


--
-- Name: commands commands_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY commands
    ADD CONSTRAINT commands_pkey PRIMARY KEY (id);


--
-- Name: dead_letters dead_letters_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY dead_letters
    ADD CONSTRAINT dead_letters_pkey PRIMARY KEY (id);


--
-- Name: device_state device_state_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY device_state
    ADD CONSTRAINT device_state_pkey PRIMARY KEY (site, room, device);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);


--
-- Name: latest_readings latest_readings_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY latest_readings
    ADD CONSTRAINT latest_readings_pkey PRIMARY KEY (agent, device, metric);


--
-- Name: room_config_versions room_config_versions_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY room_config_versions
    ADD CONSTRAINT room_config_versions_pkey PRIMARY KEY (site, room, version);


--
-- Name: rooms rooms_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY rooms
    ADD CONSTRAINT rooms_pkey PRIMARY KEY (site_id, room_id);


--
-- Name: site_config_versions site_config_versions_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY site_config_versions
    ADD CONSTRAINT site_config_versions_pkey PRIMARY KEY (site, version);


--
-- Name: sites sites_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY sites
    ADD CONSTRAINT sites_pkey PRIMARY KEY (id);


--
-- Name: telemetry telemetry_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY telemetry
    ADD CONSTRAINT telemetry_pkey PRIMARY KEY (id);


--
-- Name: alert_transitions uq_alert_transitions_source; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY alert_transitions
    ADD CONSTRAINT uq_alert_transitions_source UNIQUE (source);


--
-- Name: events uq_events_message; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY events
    ADD CONSTRAINT uq_events_message UNIQUE (agent, boot, seq);


--
-- Name: telemetry uq_telemetry_message_metric; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY telemetry
    ADD CONSTRAINT uq_telemetry_message_metric UNIQUE (agent, boot, seq, metric);


--
-- Name: usage_daily usage_daily_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY usage_daily
    ADD CONSTRAINT usage_daily_pkey PRIMARY KEY (site, day, room, device, part);


--
-- Name: usage_hourly usage_hourly_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY usage_hourly
    ADD CONSTRAINT usage_hourly_pkey PRIMARY KEY (site, hour, room, device, part);


--
-- Name: usage_room_daily usage_room_daily_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY usage_room_daily
    ADD CONSTRAINT usage_room_daily_pkey PRIMARY KEY (site, day, room);


--
-- Name: usage_site_daily usage_site_daily_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY usage_site_daily
    ADD CONSTRAINT usage_site_daily_pkey PRIMARY KEY (site, day, kind, device, part);


--
-- Name: user_rooms user_rooms_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY user_rooms
    ADD CONSTRAINT user_rooms_pkey PRIMARY KEY (user_id, site_id, room_id);


--
-- Name: user_sites user_sites_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY user_sites
    ADD CONSTRAINT user_sites_pkey PRIMARY KEY (user_id, site_id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: users users_username_key; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY users
    ADD CONSTRAINT users_username_key UNIQUE (username);


--
-- Name: web_sessions web_sessions_digest_key; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY web_sessions
    ADD CONSTRAINT web_sessions_digest_key UNIQUE (digest);


--
-- Name: web_sessions web_sessions_pkey; Type: CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY web_sessions
    ADD CONSTRAINT web_sessions_pkey PRIMARY KEY (id);


--
-- Name: ix_alert_transitions_alert; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_alert_transitions_alert ON alert_transitions USING btree (alert_id, id);


--
-- Name: ix_alerts_site_room_started_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_alerts_site_room_started_at ON alerts USING btree (site, room, started_at);


--
-- Name: ix_alerts_started_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_alerts_started_at ON alerts USING btree (started_at);


--
-- Name: ix_api_tokens_user_id; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_api_tokens_user_id ON api_tokens USING btree (user_id);


--
-- Name: ix_audit_actor_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_audit_actor_at ON audit_log USING btree (actor, at);


--
-- Name: ix_audit_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_audit_at ON audit_log USING btree (at);


--
-- Name: ix_audit_site_room_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_audit_site_room_at ON audit_log USING btree (site, room, at);


--
-- Name: ix_boots_agent; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_boots_agent ON boots USING btree (agent);


--
-- Name: ix_commands_room_sent_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_commands_room_sent_at ON commands USING btree (site, room, sent_at);


--
-- Name: ix_dead_letters_received_at; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_dead_letters_received_at ON dead_letters USING btree (received_at);


--
-- Name: ix_events_agent_ts; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_events_agent_ts ON events USING btree (agent, ts);


--
-- Name: ix_telemetry_agent_metric_ts; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_telemetry_agent_metric_ts ON telemetry USING btree (agent, metric, ts);


--
-- Name: ix_usage_daily_day; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_usage_daily_day ON usage_daily USING btree (day);


--
-- Name: ix_usage_hourly_hour; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_usage_hourly_hour ON usage_hourly USING btree (hour);


--
-- Name: ix_web_sessions_user_id; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE INDEX ix_web_sessions_user_id ON web_sessions USING btree (user_id);


--
-- Name: uq_alerts_active; Type: INDEX; Schema: previous_release; Owner: -
--

CREATE UNIQUE INDEX uq_alerts_active ON alerts USING btree (kind, site, room, device) WHERE (active IS TRUE);


--
-- Name: alert_transitions alert_transitions_alert_id_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY alert_transitions
    ADD CONSTRAINT alert_transitions_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES alerts(id) ON DELETE CASCADE;


--
-- Name: api_tokens api_tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY api_tokens
    ADD CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;


--
-- Name: room_config_versions room_config_versions_site_room_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY room_config_versions
    ADD CONSTRAINT room_config_versions_site_room_fkey FOREIGN KEY (site, room) REFERENCES rooms(site_id, room_id) ON DELETE CASCADE;


--
-- Name: rooms rooms_site_id_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY rooms
    ADD CONSTRAINT rooms_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites(id) ON DELETE CASCADE;


--
-- Name: site_config_versions site_config_versions_site_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY site_config_versions
    ADD CONSTRAINT site_config_versions_site_fkey FOREIGN KEY (site) REFERENCES sites(id) ON DELETE CASCADE;


--
-- Name: user_rooms user_rooms_user_id_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY user_rooms
    ADD CONSTRAINT user_rooms_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;


--
-- Name: user_sites user_sites_user_id_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY user_sites
    ADD CONSTRAINT user_sites_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;


--
-- Name: web_sessions web_sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: previous_release; Owner: -
--

ALTER TABLE ONLY web_sessions
    ADD CONSTRAINT web_sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


