/* The hub's pages talk to its JSON API with the session cookie and its CSRF token.
   SmartclassApi.call(method, url, body) resolves to {ok, status, data}; it never throws
   for an HTTP error, so pages can show the answer next to what was tried. A 401 sends the
   browser to the sign-in page. */
(function () {
  "use strict";

  function cookie(name) {
    var found = document.cookie.split("; ").find(function (c) { return c.indexOf(name + "=") === 0; });
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  function call(method, url, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET" && method !== "HEAD") { headers["X-CSRF-Token"] = cookie("smartclass_csrf"); }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401 && url.indexOf("/api/v1/auth/login") < 0) {
        window.location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      }
      var type = r.headers.get("content-type") || "";
      return r.text().then(function (text) {
        var data = text;
        if (text && type.indexOf("json") >= 0) {
          try { data = JSON.parse(text); } catch (e) { data = text; }
        }
        return { ok: r.ok, status: r.status, data: text ? data : null };
      });
    }, function () { return { ok: false, status: 0, data: null }; });
  }

  function signIn(form) {
    var error = document.getElementById("login-error");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      call("POST", "/api/v1/auth/login", {
        username: form.username.value, password: form.password.value
      }).then(function (answer) {
        if (answer.ok) { window.location.href = form.dataset.next || "/"; return; }
        error.textContent = answer.status === 429 ? error.dataset.limited
          : (answer.status === 0 || answer.status >= 500 ? error.dataset.failed : error.dataset.wrong);
        error.hidden = false;
        form.password.value = "";
        form.password.focus();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("login");
    if (form) { signIn(form); }
    document.querySelectorAll("[data-signout]").forEach(function (button) {
      button.addEventListener("click", function () {
        call("POST", "/api/v1/auth/logout").then(function () { window.location.href = "/login"; });
      });
    });
  });

  window.SmartclassApi = { call: call, cookie: cookie };
})();
