/* The IT dashboard's pages: live parts, commands, alerts, the flash and the sound of a help
   request. Every text shown comes from the page (data-* attributes, translated by the server);
   a part of a page ([data-part]) is fetched again from the server (?part=NAME) when the live
   stream says something it shows has changed ([data-on]: event kinds; [data-room]: only that
   room's), so the script never builds what the hub stores. */
(function () {
  "use strict";

  var root = document.querySelector("[data-dashboard]");
  if (!root) { return; }
  var texts = root.dataset;
  var listeners = {};
  var timers = {};
  var flashing = {};
  var FLASH_MS = 10000;

  function say(status) {
    var key = "e" + status;
    return texts[key] || texts.eother;
  }

  function announce(text) {
    var el = document.querySelector("[data-announce]");
    if (el && text) { el.textContent = ""; setTimeout(function () { el.textContent = text; }, 50); }
  }

  /* --- parts -------------------------------------------------------------------------- */

  function kept(el) {
    var values = {};
    el.querySelectorAll("input[id], textarea[id], select[id]").forEach(function (field) {
      if (field.type === "checkbox") {
        if (field.checked !== field.defaultChecked) { values[field.id] = field.checked; }
      } else if (field.value !== field.defaultValue) { values[field.id] = field.value; }
    });
    var said = {};
    el.querySelectorAll("[data-outcome][id]").forEach(function (out) {
      if (out.textContent) { said[out.id] = { text: out.textContent, state: out.dataset.state || "" }; }
    });
    var active = document.activeElement;
    return { values: values, said: said, focus: active && el.contains(active) ? active.id : null };
  }

  function restore(el, state) {
    Object.keys(state.values).forEach(function (id) {
      var field = el.querySelector("#" + CSS.escape(id));
      if (!field) { return; }
      if (field.type === "checkbox") { field.checked = state.values[id]; } else { field.value = state.values[id]; }
    });
    Object.keys(state.said).forEach(function (id) {
      var out = el.querySelector("#" + CSS.escape(id));
      if (out && !out.textContent) { out.textContent = state.said[id].text; out.dataset.state = state.said[id].state; }
    });
    if (state.focus) {
      var again = el.querySelector("#" + CSS.escape(state.focus));
      if (again) { again.focus(); }
    }
  }

  function reflash(el) {
    var now = Date.now();
    Object.keys(flashing).forEach(function (selector) {
      if (flashing[selector] < now) { delete flashing[selector]; return; }
      el.querySelectorAll(selector).forEach(function (target) { target.classList.add("flashing"); });
    });
  }

  function fetchPart(name) {
    var el = document.querySelector('[data-part="' + name + '"]');
    if (!el) { return; }
    var url = new URL(window.location.href);
    url.searchParams.set("part", name);
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) {
          window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
        }
        return r.ok ? r.text() : null;
      }, function () { return null; })
      .then(function (html) {
        if (html === null) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        var current = document.querySelector('[data-part="' + name + '"]');
        if (!fresh || !current) { return; }
        var state = kept(current);
        current.replaceWith(fresh);
        restore(fresh, state);
        reflash(document);
        emit("part", { name: name, el: fresh });
      });
  }

  function refresh(name) {
    if (timers[name]) { return; }
    timers[name] = setTimeout(function () { delete timers[name]; fetchPart(name); }, 200);
  }

  function refreshAll() {
    document.querySelectorAll("[data-part]").forEach(function (el) { refresh(el.dataset.part); });
    emit("resync", {});
  }

  /* --- the live stream -------------------------------------------------------------------- */

  function on(kind, fn) { (listeners[kind] = listeners[kind] || []).push(fn); }

  function emit(kind, data) { (listeners[kind] || []).forEach(function (fn) { fn(data); }); }

  function received(kind, data) {
    var where = data.site + "/" + data.room;
    document.querySelectorAll("[data-part]").forEach(function (el) {
      var kinds = (el.dataset.on || "").split(" ");
      if (kinds.indexOf(kind) < 0) { return; }
      if (el.dataset.room && el.dataset.room !== where) { return; }
      refresh(el.dataset.part);
    });
    emit(kind, data);
  }

  function flash(selector) {
    flashing[selector] = Date.now() + FLASH_MS;
    document.querySelectorAll(selector).forEach(function (el) {
      el.classList.remove("flashing");
      void el.offsetWidth; // restart the animation
      el.classList.add("flashing");
    });
  }

  function helpArrived(data) {
    var where = data.site + "/" + data.room;
    if (root.dataset.room && root.dataset.room !== where) { return; }
    var card = document.querySelector('[data-room-card="' + where + '"]');
    flash('[data-room-card="' + where + '"]');
    beep();
    announce((texts.help || "") + " " + (card ? card.dataset.name : data.room));
  }

  on("help", function (data) { if (data.kind === "help") { helpArrived(data); } });
  on("alert", function (data) {
    if (data.kind === "help" && (data.action === "raised" || data.action === "repeated")) {
      flash('[data-alert="' + data.id + '"]');
    }
  });

  /* --- sound -------------------------------------------------------------------------------- */

  var audio = null;
  var soundOn = false;

  function tone(at, frequency) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.2);
    osc.connect(gain).connect(audio.destination);
    osc.start(at);
    osc.stop(at + 0.22);
  }

  function beep() {
    if (!soundOn || !audio || audio.state !== "running") { return; }
    var t = audio.currentTime + 0.01;
    tone(t, 880);
    tone(t + 0.28, 660);
  }

  function showSound(button) {
    button.setAttribute("aria-pressed", soundOn ? "true" : "false");
    button.textContent = soundOn ? button.dataset.onText : button.dataset.offText;
  }

  function startAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    audio = audio || new Context();
    if (audio.state !== "running") { audio.resume(); }
  }

  function setupSound() {
    var button = document.querySelector("[data-sound]");
    if (!button) { return; }
    soundOn = window.localStorage.getItem("smartclass-sound") === "on";
    showSound(button);
    if (soundOn) { // the browser lets sound start only after a gesture on the page
      var first = function () {
        startAudio();
        document.removeEventListener("pointerdown", first, true);
        document.removeEventListener("keydown", first, true);
      };
      document.addEventListener("pointerdown", first, true);
      document.addEventListener("keydown", first, true);
    }
    button.addEventListener("click", function () {
      soundOn = !soundOn;
      window.localStorage.setItem("smartclass-sound", soundOn ? "on" : "off");
      if (soundOn) { startAudio(); setTimeout(beep, 50); }
      showSound(button);
    });
  }

  /* --- actions through the API ---------------------------------------------------------------- */

  function outcome(where, state, text, detail) {
    // an id is looked up now: the part holding it may have been fetched again meanwhile
    var el = typeof where === "string" ? document.getElementById(where) : where;
    if (!el) { return; }
    el.dataset.state = state;
    el.textContent = text || "";
    if (detail) { el.title = typeof detail === "string" ? detail : JSON.stringify(detail); } else { el.removeAttribute("title"); }
  }

  function busy(button, on) {
    button.disabled = on;
    if (on) { button.setAttribute("aria-busy", "true"); } else { button.removeAttribute("aria-busy"); }
  }

  function call(button, method, url, body, where) {
    busy(button, true);
    outcome(where, "", texts.sending);
    return window.SmartclassApi.call(method, url, body).then(function (answer) {
      busy(button, false);
      if (answer.ok) { outcome(where, "ok", texts.done); } else {
        outcome(where, "bad", say(answer.status), answer.data && answer.data.detail);
      }
      return answer;
    });
  }

  function command(button) {
    var card = button.closest("[data-device]");
    var params = JSON.parse(button.dataset.params || "{}");
    if (button.dataset.paramFrom) {
      var source = document.getElementById(button.dataset.paramFrom);
      params[source.name] = source.value;
    }
    var url = "/api/v1/rooms/" + root.dataset.room + "/devices/" + card.dataset.device + "/commands";
    call(button, "POST", url, { action: button.dataset.command, params: params },
         card.querySelector("[data-outcome]").id);
  }

  function alertAction(button) {
    var id = button.dataset.alertId;
    var row = button.closest("tr[data-alert]");
    var field = row.querySelector("input[name=comment]");
    var error = row.querySelector(".field-error");
    if (!field.value.trim()) {
      field.setAttribute("aria-invalid", "true");
      error.textContent = texts.needComment;
      error.hidden = false;
      field.focus();
      return;
    }
    field.removeAttribute("aria-invalid");
    error.hidden = true;
    var url = "/api/v1/alerts/" + id + "/" + button.dataset.alertAction;
    call(button, "POST", url, { comment: field.value.trim() }, row.querySelector("[data-outcome]").id)
      .then(function (answer) { if (answer.ok) { field.value = ""; field.defaultValue = ""; } });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || button.disabled) { return; }
    if (button.dataset.command) { command(button); } else if (button.dataset.alertAction) { alertAction(button); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setupSound();
    var kinds = {};
    ["room", "state", "telemetry", "help", "alert", "config", "health"].forEach(function (kind) {
      kinds[kind] = function (data) { received(kind, data); };
    });
    window.SmartclassLive.follow(root.dataset.stream, kinds, { resync: refreshAll });
  });

  /* One difference of the configuration API (path, op, old, new) as a line of text. */
  function change(c) {
    var path = c.path.join(".");
    if (c.op === "added") { return "+ " + path + ": " + JSON.stringify(c.new); }
    if (c.op === "removed") { return "- " + path + ": " + JSON.stringify(c.old); }
    return "~ " + path + ": " + JSON.stringify(c.old) + " → " + JSON.stringify(c.new);
  }

  /* Lines into a <pre class="diff">, additions and removals coloured. */
  function lines(pre, texts) {
    pre.textContent = "";
    texts.forEach(function (text) {
      var line = document.createElement("span");
      line.className = text[0] === "+" ? "add" : (text[0] === "-" ? "del" : "");
      line.textContent = text + "\n";
      pre.appendChild(line);
    });
    pre.hidden = false;
  }

  window.SmartclassDashboard = {
    on: on, refresh: refresh, call: call, outcome: outcome, say: say, texts: texts, root: root,
    change: change, lines: lines
  };
})();
