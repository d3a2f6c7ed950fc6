/* The configuration editor: one JSON field per section; "check" asks the hub what the change
   would do (nothing is stored) and shows each problem under its section with its line, or the
   differences; "save and push" stores it as a new version, which the hub pushes at once. */
(function () {
  "use strict";

  var dash = window.SmartclassDashboard;

  /* JSON laid out as JSON.stringify(value, null, 2) does, with the line of every path. */
  function layout(value) {
    var out = [];
    var lines = {};
    function walk(v, path, indent, prefix, suffix) {
      lines[path.join(".")] = out.length + 1;
      var isList = Array.isArray(v);
      var keys = v && typeof v === "object" ? Object.keys(v) : [];
      if (keys.length) {
        out.push(prefix + (isList ? "[" : "{"));
        keys.forEach(function (k, i) {
          var key = isList ? Number(k) : k;
          var label = isList ? "" : JSON.stringify(k) + ": ";
          walk(v[k], path.concat(key), indent + "  ", indent + "  " + label, i < keys.length - 1 ? "," : "");
        });
        out.push(indent + (isList ? "]" : "}") + suffix);
      } else {
        out.push(prefix + JSON.stringify(v) + suffix);
      }
    }
    walk(value, [], "", "", "");
    return { text: out.join("\n"), lines: lines };
  }

  function lineOf(lines, path) {
    for (var n = path.length; n >= 0; n--) {
      var key = path.slice(0, n).join(".");
      if (lines[key] !== undefined) { return lines[key]; }
    }
    return 1;
  }

  function setup(editor) {
    var t = editor.dataset;
    var fields = {};
    editor.querySelectorAll("textarea[data-section]").forEach(function (area) { fields[area.dataset.section] = area; });
    var formError = editor.querySelector("[data-form-error]");
    var diffBox = editor.querySelector("[data-diff-box]");
    var diff = editor.querySelector("[data-diff]");
    var push = editor.querySelector("[data-push]");
    var result = editor.querySelector("[data-outcome]");
    var comment = editor.querySelector("#change-comment");
    var layouts = {};
    var checked = null;

    function clear() {
      Object.keys(fields).forEach(function (s) { show(s, []); });
      formError.hidden = true;
      diffBox.hidden = true;
      push.hidden = true;
    }

    function show(section, messages) {
      var area = fields[section];
      var error = editor.querySelector('[data-error-for="' + section + '"]');
      if (messages.length) { area.setAttribute("aria-invalid", "true"); } else { area.removeAttribute("aria-invalid"); }
      error.textContent = messages.join("\n");
      error.hidden = !messages.length;
    }

    function read() {
      var config = {};
      var bad = false;
      Object.keys(fields).forEach(function (section) {
        var text = fields[section].value.trim();
        if (!text) { return; }
        try {
          var value = JSON.parse(text);
        } catch (e) {
          var at = /position (\d+)/.exec(String(e.message));
          var line = at ? text.slice(0, Number(at[1])).split("\n").length : 1;
          show(section, [t.badJson.replace("{line}", line)]);
          bad = true;
          return;
        }
        layouts[section] = layout(value);
        fields[section].value = layouts[section].text; // laid out again: lines match the errors
        config[section] = value;
      });
      return bad ? null : config;
    }

    function problemText(p) {
      return editor.getAttribute("data-t-" + p.type) || p.msg;
    }

    function problems(list) {
      var bySection = {};
      list.forEach(function (p) {
        var loc = p.loc.slice(2); // ["body", "config", section, ...]
        var section = loc[0];
        if (fields[section] && layouts[section]) {
          var line = lineOf(layouts[section].lines, loc.slice(1));
          var where = t.line.replace("{line}", line) + (loc.length > 1 ? " · " + loc.slice(1).join(".") : "");
          (bySection[section] = bySection[section] || []).push(where + ": " + problemText(p));
        } else {
          formError.textContent = (loc.join(".") || "") + " " + problemText(p);
          formError.hidden = false;
        }
      });
      Object.keys(bySection).forEach(function (s) { show(s, bySection[s]); });
      var first = Object.keys(bySection)[0];
      if (first) { fields[first].focus(); }
    }

    function render(answer) {
      var out = [];
      if (!answer.document.length && !answer.effective.length) { out.push(t.noChange); }
      if (answer.document.length) { out.push(t.document); answer.document.forEach(function (c) { out.push(dash.change(c)); }); }
      if (answer.effective.length) { out.push("", t.effective); answer.effective.forEach(function (c) { out.push(dash.change(c)); }); }
      if (answer.rooms.length) { out.push("", t.rooms + " " + answer.rooms.join(", ")); }
      dash.lines(diff, out);
      diffBox.hidden = false;
    }

    editor.querySelector("[data-check]").addEventListener("click", function (event) {
      clear();
      checked = null;
      var config = read();
      if (config === null) { return; }
      var body = { config: config, comment: comment.value.trim() };
      dash.call(event.currentTarget, "POST", t.previewUrl, body, result).then(function (answer) {
        if (answer.status === 422 && Array.isArray(answer.data && answer.data.detail)) {
          problems(answer.data.detail);
          dash.outcome(result, "bad", dash.say(422));
          return;
        }
        if (!answer.ok) { return; }
        dash.outcome(result, "ok", "");
        render(answer.data);
        checked = JSON.stringify(body.config);
        push.hidden = false;
      });
    });

    editor.addEventListener("input", function () { // what was checked is no longer what is there
      if (checked !== null) { checked = null; push.hidden = true; }
    });

    push.addEventListener("click", function (event) {
      var config = read();
      if (config === null || JSON.stringify(config) !== checked) { push.hidden = true; return; }
      var body = { config: config, comment: comment.value.trim() };
      dash.call(event.currentTarget, "PUT", t.putUrl, body, result).then(function (answer) {
        if (answer.status === 422 && Array.isArray(answer.data && answer.data.detail)) {
          problems(answer.data.detail);
          return;
        }
        if (!answer.ok) { return; }
        var pushed = answer.data.pushes.filter(function (p) { return p.pushed; }).length;
        dash.outcome(result, "ok", t.stored.replace("{version}", answer.data.version)
          .replace("{pushed}", pushed).replace("{rooms}", answer.data.pushes.length));
        push.hidden = true;
        checked = null;
        Object.keys(fields).forEach(function (s) { fields[s].defaultValue = fields[s].value; });
        dash.refresh("status");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-editor]").forEach(setup);
  });
})();
