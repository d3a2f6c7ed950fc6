/* The consent and enrolment page: record a consent, withdraw one, send a class roster, each
   after the user confirms, through the JSON API; then the lists are fetched again. */
(function () {
  "use strict";

  var dash = window.SmartclassDashboard;

  function lines(text) {
    return text.split(/[\s,;]+/).map(function (s) { return s.trim(); }).filter(Boolean);
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
