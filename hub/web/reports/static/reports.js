/* The report pages' charts, drawn with uPlot (vendored in ui/static/vendor).

   The page puts what to draw in <script type="application/json" id="chart-data">: a list of
   {id, title, unit, ticks: [label per period], series: [{label, values, colour, style, align}]},
   every text already in the user's language. Each <div data-chart="{id}"> gets its chart.
   A "bar" series with align -1 or 1 stands beside its neighbour (two figures side by side);
   bars with align 0 are drawn over one another (a part over its whole: waste over energy).
   The figures themselves are in the tables under the charts: the legend is the page's own
   text, and the charts carry no other. */
(function () {
  "use strict";

  var HEIGHT = 240;

  function numberFormat() {
    try { return new Intl.NumberFormat(document.documentElement.lang || undefined); }
    catch (e) { return new Intl.NumberFormat(); }
  }

  function options(spec, width, fmt) {
    var n = spec.ticks.length;
    var beside = spec.series.filter(function (s) { return s.style === "bar" && s.align; }).length;
    var series = [{}];
    spec.series.forEach(function (s) {
      var line = s.style === "line";
      var size = beside ? 0.8 / beside : 0.7;
      series.push({
        label: s.label,
        stroke: s.colour,
        fill: line ? undefined : s.colour,
        width: line ? 2 : 0,
        points: { show: line, size: 6, fill: s.colour },
        paths: line ? undefined : uPlot.paths.bars({ size: [size, 80], align: s.align || 0 })
      });
    });
    return {
      width: width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: {
        x: { time: false, range: function () { return [-0.5, n - 0.5]; } },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }
      },
      axes: [
        {
          stroke: "#4a5866",
          grid: { show: false },
          incrs: [1, 2, 3, 4, 6, 7, 12, 24, 48, 96],
          values: function (u, splits) {
            return splits.map(function (i) { return spec.ticks[i] === undefined ? "" : spec.ticks[i]; });
          }
        },
        {
          stroke: "#4a5866",
          grid: { stroke: "#e1e6eb" },
          size: 60,
          values: function (u, splits) { return splits.map(function (v) { return fmt.format(v); }); }
        }
      ],
      series: series
    };
  }

  function draw(el, spec, fmt) {
    var data = [spec.ticks.map(function (_, i) { return i; })];
    spec.series.forEach(function (s) { data.push(s.values); });
    var width = Math.max(el.clientWidth, 200);
    var plot = new uPlot(options(spec, width, fmt), data, el);
    el.dataset.drawn = "true";
    return plot;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("chart-data");
    if (!source || typeof uPlot === "undefined") { return; }
    var specs = JSON.parse(source.textContent);
    var fmt = numberFormat();
    var plots = [];
    specs.forEach(function (spec) {
      var el = document.querySelector('[data-chart="' + spec.id + '"]');
      if (el) { plots.push([el, draw(el, spec, fmt)]); }
    });
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        plots.forEach(function (p) { p[1].setSize({ width: Math.max(p[0].clientWidth, 200), height: HEIGHT }); });
      }, 150);
    });
  });
})();
