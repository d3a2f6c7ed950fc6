/* The consent and enrolment page: record a consent, withdraw one, send a class roster, each
   after the user confirms, through the JSON API; then the lists are fetched again. Enrol a
   student's face from photos (multipart, to the hub, which sends the room templates only). */
(function () {
  "use strict";

  var dash = window.SmartclassDashboard;

  function lines(text) {
    return text.split(/[\s,;]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  /* The sentence for the hub's answer to an enrolment: enrolled, no consent, a photo with no
     face or several, a photo refused, the room offline. */
  function enrolOutcome(texts, status, detail, count) {
    if (status === 200) { return texts.enrolled.replace("{n}", count); }
    if (status === 409 && String(detail).indexOf("no_consent") === 0) { return texts.noConsent; }
    if (status === 422 && Array.isArray(detail) && detail.length) {
      var where = String(detail[0].loc && detail[0].loc[1] || "");
      var found = /^photos\[(\d+)\]/.exec(where);
      var msg = String(detail[0].msg || "");
      if (found) {
        var n = String(Number(found[1]) + 1);
        if (msg.indexOf("no face") === 0) { return texts.noFace.replace("{n}", n); }
        if (/^\d+ faces/.test(msg)) { return texts.severalFaces.replace("{n}", n); }
        return texts.badPhoto.replace("{n}", n);
      }
      if (where === "photos") { return texts.photoCount; }
    }
    if (status === 503 || status === 504 || status === 0) { return texts.offline; }
    return dash.say(status);
  }

  function setup(page) {
    var site = page.dataset.site;
    var record = page.querySelector("[data-record-consent]");
    record.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.confirm(page.dataset.confirmRecord)) { return; }
      var body = {
        student: record.student.value.trim(),
        parent: record.parent.checked,
        age_7_or_over: record.age_7_or_over.checked,
        student_own: record.age_7_or_over.checked ? record.student_own.checked : null
      };
      var url = "/api/v1/rooms/" + site + "/" + record.room.value + "/attendance/consent";
      dash.call(record.querySelector("button[type=submit]"), "POST", url, body, "outcome-record")
        .then(function (answer) {
          if (!answer.ok) { return; }
          record.reset();
          dash.refresh("list");
          dash.refresh("methods");
        });
    });

    var roster = page.querySelector("[data-push-roster]");
    roster.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!window.confirm(page.dataset.confirmRoster)) { return; }
      var body = {
        class_id: roster.class_id.value.trim(),
        method: roster.method.value,
        students: lines(roster.students.value).map(function (id) { return { student: id }; })
      };
      var url = "/api/v1/rooms/" + site + "/" + roster.room.value + "/attendance/roster";
      dash.call(roster.querySelector("button[type=submit]"), "POST", url, body, "outcome-roster")
        .then(function (answer) { if (answer.ok) { dash.refresh("methods"); } });
    });

    var enrol = page.querySelector("[data-enrol]");
    var chosen = enrol.querySelector("[data-chosen]");
    function showChosen() {  /* the picker's own words are the browser's language: ours instead */
      var n = enrol.photos.files.length;
      chosen.textContent = n ? chosen.dataset.some.replace("{n}", n) : chosen.dataset.none;
    }
    enrol.photos.addEventListener("change", showChosen);
    enrol.addEventListener("reset", function () { window.setTimeout(showChosen, 0); });
    enrol.addEventListener("submit", function (event) {
      event.preventDefault();
      var texts = enrol.dataset;
      var files = enrol.photos.files;
      var button = enrol.querySelector("button[type=submit]");
      if (files.length < 1 || files.length > 5) {
        dash.outcome("outcome-enrol", "bad", texts.photoCount);
        return;
      }
      var body = new FormData();
      body.append("student", enrol.student.value.trim());
      for (var i = 0; i < files.length; i++) { body.append("photos", files[i], files[i].name); }
      var url = "/api/v1/rooms/" + site + "/" + enrol.room.value + "/attendance/enrol";
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      dash.outcome("outcome-enrol", "", dash.texts.sending);
      fetch(url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json",
                   "X-CSRF-Token": window.SmartclassApi.cookie("smartclass_csrf") }
      }).then(function (r) {
        return r.json().then(function (data) { return { status: r.status, data: data }; },
                             function () { return { status: r.status, data: null }; });
      }, function () { return { status: 0, data: null }; }).then(function (answer) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        var detail = answer.data && answer.data.detail;
        var said = enrolOutcome(texts, answer.status, detail, files.length);
        dash.outcome("outcome-enrol", answer.status === 200 ? "ok" : "bad", said, detail);
        enrol.dataset.result = answer.status === 200 ? "enrolled" : said === texts.noConsent
          ? "no_consent" : String(answer.status);
        if (answer.status === 200) {
          enrol.reset();
          dash.refresh("list");
        }
      });
    });

    document.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-withdraw]");
      if (!button) { return; }
      var student = button.dataset.student;
      if (!window.confirm(page.dataset.confirmWithdraw.replace("{student}", student))) { return; }
      var url = "/api/v1/rooms/" + site + "/" + button.dataset.room + "/attendance/withdraw";
      dash.call(button, "POST", url, { student: student }, "outcome-student-" + student)
        .then(function (answer) {
          if (!answer.ok) { return; }
          dash.refresh("list");
          dash.refresh("methods");
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector("[data-consent]");
    if (page) { setup(page); }
  });
})();
