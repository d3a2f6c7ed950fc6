/* smartclass live updates: follow an app's server-sent events and recover by itself.

   SmartclassLive.follow(url, {kind: handler, ...}, options) opens an EventSource on url.
   Each event's data is JSON; handler(data, event) is called for its kind. When the stream
   drops, the browser reconnects with Last-Event-ID; when the server refused it (the
   EventSource is closed), a new one is opened with ?after=<last id> after a growing delay,
   so nothing sent meanwhile is missed. A "resync" event means the server no longer holds
   what was missed: options.resync() is called (by default the page reloads).
   Elements with [data-live-status] show "live" or "reconnecting" (their data-up and
   data-down texts, already translated by the page) and carry data-state="up|down". */
(function () {
  "use strict";

  function setStatus(up) {
    document.querySelectorAll("[data-live-status]").forEach(function (el) {
      el.dataset.state = up ? "up" : "down";
      var text = up ? el.dataset.up : el.dataset.down;
      if (text) { el.textContent = text; }
    });
    document.documentElement.dataset.live = up ? "up" : "down";
  }

  function follow(url, handlers, options) {
    options = options || {};
    var lastId = options.after === undefined || options.after === null ? null : String(options.after);
    var delay = 1000;
    var source = null;
    var timer = null;

    function open() {
      var target = url;
      if (lastId !== null) {
        target += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(lastId);
      }
      source = new EventSource(target, { withCredentials: true });
      source.onopen = function () { delay = 1000; setStatus(true); };
      source.onerror = function () {
        setStatus(false);
        if (source.readyState === EventSource.CLOSED) {
          clearTimeout(timer);
          timer = setTimeout(open, delay);
          delay = Math.min(delay * 2, 30000);
        }
      };
      Object.keys(handlers).forEach(function (kind) {
        source.addEventListener(kind, function (event) {
          if (event.lastEventId) { lastId = event.lastEventId; }
          var data = {};
          try { data = JSON.parse(event.data); } catch (e) { return; }
          handlers[kind](data, event);
        });
      });
      source.addEventListener("resync", function (event) {
        if (event.lastEventId) { lastId = event.lastEventId; }
        if (options.resync) { options.resync(); } else { window.location.reload(); }
      });
    }

    open();
    return {
      close: function () { clearTimeout(timer); if (source) { source.close(); } },
      lastId: function () { return lastId; }
    };
  }

  window.SmartclassLive = { follow: follow, setStatus: setStatus };
})();
