/* The users of IT's schools: add one (its password is shown once), disable or enable, a new
   password, the schools or rooms it reaches; each problem the hub finds is shown by its field. */
(function () {
  "use strict";

  var dash = window.SmartclassDashboard;

  function checked(container, name) {
    return Array.prototype.map.call(
      container.querySelectorAll('input[name="' + name + '"]:checked'), function (box) { return box.value; });
  }

  function showPassword(user, password) {
    var box = document.querySelector("[data-password-box]");
    box.querySelector("[data-password-user]").textContent = user;
    box.querySelector("[data-password]").textContent = password;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  function fieldErrors(container, page, detail) {
    container.querySelectorAll("[data-error-for]").forEach(function (el) { el.hidden = true; });
    container.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var first = null;
    detail.forEach(function (p) {
      var field = p.loc[1];
      var el = container.querySelector('[data-error-for="' + field + '"]');
      if (!el) { return; }
      el.textContent = page.getAttribute("data-t-" + p.type) || p.msg;
      el.hidden = false;
      var input = container.querySelector('[name="' + field + '"]');
      if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
    });
    if (first) { first.focus(); }
  }

  function setup(page) {
    var form = page.querySelector("[data-add-user]");
    var result = form.querySelector("[data-outcome]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {
        username: form.username.value.trim(),
        display_name: form.display_name.value.trim(),
        role: form.role.value,
        sites: checked(form, "sites"),
        rooms: checked(form, "rooms")
      };
      var button = form.querySelector("button[type=submit]");
      dash.call(button, "POST", "/api/v1/users", body, result).then(function (answer) {
        if (answer.status === 422 && Array.isArray(answer.data && answer.data.detail)) {
          fieldErrors(form, page, answer.data.detail);
          return;
        }
        if (answer.status === 409) {
          fieldErrors(form, page, [{ loc: ["body", "username"], type: "taken", msg: page.dataset.taken }]);
          return;
        }
        if (!answer.ok) { return; }
        fieldErrors(form, page, []);
        showPassword(answer.data.user.username, answer.data.password);
        form.reset();
        dash.refresh("list");
      });
    });

    document.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-user-action]");
      if (!button) { return; }
      var user = button.dataset.user;
      var action = button.dataset.userAction;
      var row = button.closest("[data-user-row]");
      var where = row.querySelector("[data-outcome]").id;
      var url = "/api/v1/users/" + encodeURIComponent(user) + "/" + action;
      var method = "POST";
      var body;
      if (action === "reach") {
        var reach = button.closest("[data-reach]");
        url = "/api/v1/users/" + encodeURIComponent(user) + "/reach";
        method = "PUT";
        body = { sites: checked(reach, "sites"), rooms: checked(reach, "rooms") };
      }
      dash.call(button, method, url, body, where).then(function (answer) {
        if (answer.status === 422 && action === "reach") {
          fieldErrors(button.closest("[data-reach]"), page, answer.data.detail || []);
          return;
        }
        if (!answer.ok) { return; }
        if (action === "password") { showPassword(user, answer.data.password); }
        dash.refresh("list");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector("[data-users]");
    if (page) { setup(page); }
  });
})();
