/* The teacher's panel: render the room's state and send taps to the agent.

   What a control shows comes only from the room's state (the snapshot in the page, then
   the agent's live stream): a tap marks its button busy until the agent answers, and the
   new state arrives over the stream. A projector that warms up, cools down or switches
   input shows a countdown and its buttons take no tap meanwhile. Every text is the page's
   own (#panel-texts, translated by the agent); numbers and times use the page's language. */
(function () {
  "use strict";

  const texts = JSON.parse(document.getElementById("panel-texts").textContent);
  let state = JSON.parse(document.getElementById("panel-state").textContent);
  const lang = document.documentElement.lang || "vi";
  const pending = new Set();   // what a tap waits for: "device:lights", "lesson", "help"
  const deadlines = {};        // projector id -> performance.now() at which it should be done
  let toastTimer = null;

  function t(key, vars) {
    let text = texts[key] || "";
    Object.keys(vars || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(vars[name]));
    });
    return text;
  }

  function number(value, digits) {
    if (value === null || value === undefined) { return "—"; }
    return new Intl.NumberFormat(lang, {
      minimumFractionDigits: digits, maximumFractionDigits: digits
    }).format(value);
  }

  function clock(iso) {
    return new Intl.DateTimeFormat(lang, {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: state.timezone
    }).format(new Date(iso));
  }

  function weekday(iso) {
    return new Intl.DateTimeFormat(lang, { weekday: "long", timeZone: state.timezone })
      .format(new Date(iso));
  }

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $$(selector, root) { return Array.from((root || document).querySelectorAll(selector)); }

  function press(button, pressed) { button.setAttribute("aria-pressed", pressed ? "true" : "false"); }

  function toast(text) {
    const box = $("#toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 5000);
  }

  // --- the devices -----------------------------------------------------------------

  function card(id) { return $('.device[data-device="' + CSS.escape(id) + '"]'); }

  function busyOf(view) {
    if (!view || !view.busy) { return null; }
    const left = Math.max(0, ((deadlines[view.id] || 0) - performance.now()) / 1000);
    return { what: view.busy.what, left: Math.ceil(left) };
  }

  function renderLights(view, box) {
    const waiting = pending.has("device:" + view.id);
    const status = $("[data-status]", box);
    box.dataset.available = view.available ? "true" : "false";
    if (!view.available) {
      status.textContent = t("lights_unavailable");
    } else if (view.scenes.length) {
      const button = $('[data-scene="' + CSS.escape(view.scenes[0]) + '"]', box);
      status.textContent = t("lights_scene", { scene: button ? button.textContent : view.scenes[0] });
    } else {
      status.textContent = t("lights_custom");
    }
    $$("[data-scene]", box).forEach(function (button) {
      press(button, view.available && view.scenes.indexOf(button.dataset.scene) >= 0);
      button.disabled = !view.available || waiting;
    });
    $$("[data-zone]", box).forEach(function (row) {
      const zone = (view.zones || {})[row.dataset.zone];
      const on = !!(zone && zone.on);
      const toggle = $("[data-zone-toggle]", row);
      press(toggle, view.available && on);
      toggle.disabled = !view.available || waiting;
      const dimmable = $$("[data-level]", row);
      let label = on ? t("zone_on") : t("zone_off");
      if (on && dimmable.length) { label = t("zone_level", { n: zone.level }); }
      $("[data-zone-state]", row).textContent = view.available && zone ? label : "—";
      dimmable.forEach(function (button) {
        press(button, view.available && !!zone && zone.level === Number(button.dataset.level));
        button.disabled = !view.available || waiting;
      });
    });
  }

  function renderProjector(view, box) {
    const waiting = pending.has("device:" + view.id) || pending.has("lesson");
    const busy = busyOf(view);
    const status = $("[data-status]", box);
    const on = view.available && view.power === "on";
    box.dataset.available = view.available ? "true" : "false";
    box.setAttribute("aria-busy", busy ? "true" : "false");
    if (!view.available) {
      status.textContent = t("projector_unavailable");
    } else if (busy) {
      status.textContent = busy.left > 0 ? t("busy_" + busy.what, { s: busy.left }) : t("busy_almost");
    } else {
      const parts = [t("power_" + view.power) || view.power];
      if (on && view.input) {
        const button = $('[data-input="' + CSS.escape(view.input) + '"]', box);
        parts.push(t("projector_input", { input: button ? button.textContent : view.input }));
      }
      if (on && view.muted) { parts.push(t("projector_blanked")); }
      status.textContent = parts.join(" · ");
    }
    $$("[data-power]", box).forEach(function (button) {
      const target = button.dataset.power;
      const confirmed = view.available && (target === "on"
        ? (view.power === "on" || view.power === "warming")
        : (view.power === "off" || view.power === "cooling"));
      press(button, confirmed);
      button.disabled = !view.available || !!busy || waiting;
      button.setAttribute("aria-busy", busy && confirmed ? "true" : "false");
    });
    const mute = $("[data-mute]", box);
    press(mute, on && !!view.muted);
    mute.disabled = !on || !!busy || waiting;
    $$("[data-input]", box).forEach(function (button) {
      press(button, on && view.input === button.dataset.input);
      button.disabled = !on || !!busy || waiting;
      button.setAttribute("aria-busy", busy && busy.what === "input" &&
        view.input !== button.dataset.input ? "true" : "false");
    });
    $("[data-hint]", box).textContent = view.available && !on && !busy ? t("projector_off_hint") : "";
  }

  function renderDevice(view) {
    const box = card(view.id);
    if (!box) { return; }
    if (box.dataset.layout && view.layout && box.dataset.layout !== view.layout) {
      window.location.reload();  // its scenes, zones or inputs changed: build the page again
      return;
    }
    if (view.family === "lighting") { renderLights(view, box); } else { renderProjector(view, box); }
  }

  function projectorBusy() {
    return Object.values(state.devices).some(function (view) {
      return view.family === "projector" && view.busy;
    });
  }

  // --- the rest of the room ----------------------------------------------------------

  function renderLesson() {
    const lesson = state.lesson || { state: "idle" };
    const busy = projectorBusy();
    const waiting = pending.has("lesson");
    const start = $("#lesson-start");
    const end = $("#lesson-end");
    const switching = lesson.state === "starting" || lesson.state === "ending";
    press(start, lesson.state === "running" || lesson.state === "starting");
    start.disabled = waiting || switching || busy || lesson.state === "running";
    start.setAttribute("aria-busy", lesson.state === "starting" || waiting ? "true" : "false");
    end.disabled = waiting || switching || busy;
    let text = t("lesson_" + lesson.state);
    Object.values(state.devices).forEach(function (view) {
      const b = view.family === "projector" ? busyOf(view) : null;
      if (b) { text += " " + (b.left > 0 ? t("busy_" + b.what, { s: b.left }) : t("busy_almost")); }
    });
    $("#lesson-status").textContent = text;
  }

  function renderClimate() {
    const climate = state.climate || {};
    $$("[data-reading]").forEach(function (span) {
      const key = span.dataset.reading;
      const digits = key === "co2_ppm" ? 0 : 1;
      span.textContent = number(climate[key], digits);
    });
    const badge = $("#co2-level");
    const level = climate.co2_level;
    badge.hidden = !level;
    if (level) {
      badge.textContent = t("co2_" + level);
      badge.className = "badge " + ({ good: "ok", stuffy: "warn", open_windows: "bad" })[level];
    }
  }

  function renderTimetable() {
    const table = state.timetable || {};
    const now = $("#period-now");
    const next = $("#period-next");
    if (!table.timetable) { now.textContent = t("no_timetable"); next.textContent = ""; return; }
    if (table.holiday) {
      now.textContent = t("holiday", { name: table.holiday.name });
    } else if (table.current) {
      const subject = table.current.subject ? " · " + table.current.subject : "";
      now.textContent = t("period_now", { n: table.current.period, end: clock(table.current.end) }) + subject;
    } else {
      now.textContent = t("no_lesson_now");
    }
    if (table.next) {
      const today = new Intl.DateTimeFormat("en-CA", { timeZone: state.timezone }).format(new Date());
      const vars = { n: table.next.period, time: clock(table.next.start), day: weekday(table.next.start) };
      const subject = table.next.subject ? " · " + table.next.subject : "";
      next.textContent = t(table.next.day === today ? "period_next" : "period_next_day", vars) + subject;
    } else {
      next.textContent = "";
    }
  }

  function renderHelp() {
    const help = state.help || { request: "none" };
    const local = state.link && state.link.local;
    let text = t("help_none");
    if (help.request === "requested") { text = t(local ? "help_requested_local" : "help_requested"); }
    if (help.request === "open") { text = t("help_open"); }
    if (help.request === "acknowledged") { text = t("help_acknowledged"); }
    if (help.request === "none" && help.outcome) { text = t("help_" + help.outcome); }
    $("#help-status").textContent = text;
    $("#help-status").dataset.request = help.request + (help.outcome ? ":" + help.outcome : "");
    const comment = $("#help-comment");
    comment.hidden = !(help.request === "acknowledged" && help.by);
    comment.textContent = help.by ? t("help_by", { by: help.by, comment: help.comment || "" }) : "";
    $("#help-cancel").hidden = help.request === "none";
    $("#help-open").disabled = pending.has("help");
  }

  function renderAttendance() {
    const view = state.attendance || { enabled: false };
    const note = $("[data-attendance]");
    const counts = $("#attendance-counts");
    const list = $("#attendance-list");
    const shown = view.enabled && view.period;
    note.hidden = !!shown;
    counts.hidden = !shown;
    list.hidden = !shown || view.method === "headcount";
    if (!shown) { note.textContent = t(view.enabled ? "attendance_none" : "attendance_off"); return; }
    if (view.method === "headcount") {
      counts.textContent = t("attendance_headcount", { n: view.headcount });
      return;
    }
    counts.textContent = t(view.open ? "attendance_open" : "attendance_closed", {
      n: view.period, present: view.present.length, late: view.late.length, missing: view.missing.length
    });
    list.textContent = "";
    [["present", view.present], ["late", view.late], ["missing", view.missing]].forEach(function (group) {
      group[1].forEach(function (student) {
        const row = document.createElement("li");
        row.dataset.student = student;
        row.dataset.status = group[0];
        const name = document.createElement("span");
        name.textContent = student + " · " + t("attendance_" + group[0]);
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.mark = group[0] === "missing" ? "present" : "absent";
        button.textContent = t(group[0] === "missing" ? "attendance_mark_present" : "attendance_mark_absent");
        button.disabled = pending.has("attendance:" + student);
        row.append(name, button);
        list.append(row);
      });
    });
  }

  function renderLink() {
    const local = !state.link || state.link.local;
    $("#local-mode").hidden = !local;
    $("#local-note").hidden = !local;
    document.body.dataset.local = local ? "true" : "false";
  }

  function renderAll() {
    Object.values(state.devices).forEach(function (view) { setDeadline(view); renderDevice(view); });
    renderLesson();
    renderClimate();
    renderTimetable();
    renderHelp();
    renderLink();
    renderAttendance();
  }

  function setDeadline(view) {
    if (view.family !== "projector") { return; }
    if (view.busy) {
      deadlines[view.id] = performance.now() + view.busy.remaining_s * 1000;
    } else {
      delete deadlines[view.id];
    }
  }

  setInterval(function () {  // the countdowns
    if (!Object.keys(deadlines).length) { return; }
    Object.values(state.devices).forEach(function (view) {
      if (view.busy) { renderDevice(view); }
    });
    renderLesson();
  }, 250);

  // --- taps ------------------------------------------------------------------------

  function send(url, body, key) {
    if (pending.has(key)) { return Promise.resolve(); }
    pending.add(key);
    renderAll();
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
      credentials: "same-origin"
    }).then(function (response) {
      if (response.status === 401) { window.location.href = "/pair"; return; }
      if (!response.ok) {
        const message = response.status === 409 ? "error_busy"
          : response.status === 503 ? "error_unavailable" : "error_failed";
        toast(t(message));
      }
    }).catch(function () {
      toast(t("error_network"));
    }).finally(function () {
      pending.delete(key);
      renderAll();
    });
  }

  function act(device, action, params) {
    return send("/api/devices/" + encodeURIComponent(device) + "/actions/" +
      encodeURIComponent(action), params, "device:" + device);
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button || button.disabled) { return; }
    const box = button.closest(".device");
    if (box) {
      const id = box.dataset.device;
      const view = state.devices[id];
      if (button.dataset.scene) { act(id, "scene", { name: button.dataset.scene }); }
      if (button.hasAttribute("data-zone-toggle")) {
        const zone = button.closest("[data-zone]").dataset.zone;
        const on = !!(view && view.zones[zone] && view.zones[zone].on);
        act(id, "set", { zone: zone, on: !on });
      }
      if (button.dataset.level) {
        const zone = button.closest("[data-zone]").dataset.zone;
        act(id, "set", { zone: zone, level: Number(button.dataset.level) });
      }
      if (button.dataset.power) { act(id, button.dataset.power, {}); }
      if (button.hasAttribute("data-mute")) { act(id, view && view.muted ? "unmute" : "mute", {}); }
      if (button.dataset.input) { act(id, "input", { source: button.dataset.input }); }
      return;
    }
    if (button.dataset.mark) {
      const student = button.closest("[data-student]").dataset.student;
      send("/api/attendance/mark", { student: student, status: button.dataset.mark }, "attendance:" + student);
      return;
    }
    if (button.id === "lesson-start") { send("/api/lesson/start", {}, "lesson"); }
    if (button.id === "lesson-end") { $("#end-dialog").showModal(); }
    if (button.id === "help-open") { $("#help-dialog").showModal(); }
    if (button.id === "help-cancel") { send("/api/help/cancel", {}, "help"); }
  });

  $("#end-dialog").addEventListener("close", function () {
    if ($("#end-dialog").returnValue === "end") { send("/api/lesson/end", {}, "lesson"); }
  });

  $("#help-dialog").addEventListener("close", function () {
    const dialog = $("#help-dialog");
    if (dialog.returnValue !== "send") { return; }
    const form = $("#help-form");
    const reason = form.querySelector("input[name=reason]:checked");
    send("/api/help", { reason: reason ? reason.value : "other", text: $("#help-text").value },
      "help");
    $("#help-text").value = "";
  });

  // --- the live stream -------------------------------------------------------------

  function reload() {
    fetch("/api/state", { credentials: "same-origin" }).then(function (response) {
      if (response.status === 401) { window.location.href = "/pair"; return null; }
      return response.ok ? response.json() : null;
    }).then(function (fresh) {
      if (fresh) { state = fresh; renderAll(); }
    }).catch(function () { /* the stream reconnects and asks again */ });
  }

  SmartclassLive.follow("/api/stream", {
    device: function (view) {
      state.devices[view.id] = view;
      setDeadline(view);
      renderDevice(view);
      renderLesson();
    },
    lesson: function (lesson) { state.lesson = lesson; renderLesson(); },
    climate: function (climate) { state.climate = climate; renderClimate(); },
    timetable: function (table) { state.timetable = table; renderTimetable(); },
    help: function (help) { state.help = help; renderHelp(); },
    link: function (link) { state.link = link; renderLink(); renderHelp(); },
    attendance: function (view) { state.attendance = view; renderAttendance(); },
    unpaired: function () { window.location.href = "/pair"; }
  }, { after: state.last_event, resync: reload });

  renderAll();
})();
