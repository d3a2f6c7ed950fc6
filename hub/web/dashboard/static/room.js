/* A room's page: recent telemetry charts (uPlot, from the history API, then new points from
   the live stream) and the tablet's pairing code. */
(function () {
  "use strict";

  var dash = window.SmartclassDashboard;
  var TZ = "Asia/Ho_Chi_Minh";
  var lang = document.documentElement.lang || "vi";
  var clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: TZ });
  var number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
  var charts = {};

  function chartOf(figure, metric, hours) {
    var box = figure.querySelector(".chart");
    var data = [[], []];
    var plot = new window.uPlot({
      width: Math.max(box.clientWidth, 200),
      height: 200,
      legend: { show: false },
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1e3), TZ); },
      scales: { x: { time: true, range: function () { var now = Date.now() / 1000; return [now - hours * 3600, now]; } } },
      axes: [
        { values: function (u, ticks) { return ticks.map(function (t) { return clock.format(new Date(t * 1000)); }); } },
        { size: 70, values: function (u, ticks) { return ticks.map(function (v) { return number.format(v); }); } }
      ],
      series: [{}, { stroke: "#0b5cad", width: 2, points: { show: false } }]
    }, data, box);
    charts[metric] = { plot: plot, data: data, box: box, span: hours * 3600 };
    return charts[metric];
  }

  function load(root, metric, chart) {
    var end = new Date();
    var start = new Date(end.getTime() - chart.span * 1000);
    var url = "/api/v1/rooms/" + root.dataset.room + "/telemetry?metric=" + metric +
      "&interval_s=60&start=" + encodeURIComponent(start.toISOString()) +
      "&end=" + encodeURIComponent(end.toISOString());
    window.SmartclassApi.call("GET", url).then(function (answer) {
      if (!answer.ok) { return; }
      chart.data[0] = answer.data.points.map(function (p) { return Date.parse(p.ts) / 1000; });
      chart.data[1] = answer.data.points.map(function (p) { return p.value; });
      chart.plot.setData(chart.data);
    });
  }

  function added(data) {
    Object.keys(data.devices || {}).forEach(function (device) {
      var sample = data.devices[device];
      var t = Date.parse(sample.ts) / 1000;
      Object.keys(sample.readings).forEach(function (metric) {
        var chart = charts[metric];
        if (!chart) { return; }
        chart.data[0].push(t);
        chart.data[1].push(sample.readings[metric]);
        while (chart.data[0].length && chart.data[0][0] < t - chart.span) {
          chart.data[0].shift();
          chart.data[1].shift();
        }
        chart.plot.setData(chart.data);
      });
    });
  }

  function setupCharts() {
    var root = document.querySelector("[data-charts]");
    if (!root || !window.uPlot) { return; }
    var hours = Number(root.dataset.hours || 2);
    root.querySelectorAll("[data-chart]").forEach(function (figure) {
      var metric = figure.dataset.chart;
      load(root, metric, chartOf(figure, metric, hours));
    });
    dash.on("telemetry", function (data) {
      if (data.site + "/" + data.room === root.dataset.room) { added(data); }
    });
    dash.on("resync", function () {
      Object.keys(charts).forEach(function (metric) { load(root, metric, charts[metric]); });
    });
    window.addEventListener("resize", function () {
      Object.keys(charts).forEach(function (metric) {
        var chart = charts[metric];
        chart.plot.setSize({ width: Math.max(chart.box.clientWidth, 200), height: 200 });
      });
    });
  }

  function setupPairing() {
    var box = document.querySelector("[data-pairing]");
    if (!box) { return; }
    var result = box.querySelector("[data-outcome]");
    var shown = box.querySelector("[data-code-box]");
    var when = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", timeZone: TZ });
    box.querySelector("[data-pair]").addEventListener("click", function (event) {
      shown.hidden = true;
      dash.call(event.currentTarget, "POST", box.dataset.url, undefined, result).then(function (answer) {
        if (!answer.ok) { return; }
        box.querySelector("[data-code]").textContent = answer.data.code;
        box.querySelector("[data-expires]").textContent = when.format(new Date(answer.data.expires_at));
        shown.hidden = false;
        dash.outcome(result, "ok", "");
      });
    });
    box.querySelector("[data-unpair]").addEventListener("click", function (event) {
      if (!window.confirm(box.dataset.confirm)) { return; }
      shown.hidden = true;
      dash.call(event.currentTarget, "DELETE", box.dataset.url, undefined, result).then(function (answer) {
        if (answer.ok) { dash.outcome(result, "ok", box.dataset.unpaired); }
      });
    });
  }

  /* What a configuration version changed, from the configuration's own diff API. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-version-diff]");
    if (!button) { return; }
    var pre = document.getElementById("version-diff");
    var n = Number(button.dataset.versionDiff);
    var url = pre.dataset.url + "/" + (n - 1) + "/diff/" + n;
    window.SmartclassApi.call("GET", url).then(function (answer) {
      if (!answer.ok) { return; }
      var out = [];
      if (!answer.data.document.length && !answer.data.effective.length) { out.push(pre.dataset.noChange); }
      if (answer.data.document.length) {
        out.push(pre.dataset.document);
        answer.data.document.forEach(function (c) { out.push(dash.change(c)); });
      }
      if (answer.data.effective.length) {
        out.push(pre.dataset.effective);
        answer.data.effective.forEach(function (c) { out.push(dash.change(c)); });
      }
      dash.lines(pre, out);
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    setupCharts();
    setupPairing();
  });
})();
