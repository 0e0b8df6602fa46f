// Draws every <canvas class="chart" data-chart="{labels, series}"> with Chart.js.
// Data comes from the page's attributes, so the Content-Security-Policy needs no inline script.
"use strict";
(function () {
  var palette = ["#1f5fa8", "#b3261e", "#2e7d32", "#6a1b9a"];
  document.querySelectorAll("canvas.chart").forEach(function (canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    var names = Object.keys(data.series);
    new window.Chart(canvas, {
      type: canvas.getAttribute("data-kind") || "bar",
      data: {
        labels: data.labels,
        datasets: names.map(function (name, i) {
          return { label: name, data: data.series[name], backgroundColor: palette[i % palette.length] };
        })
      },
      options: { animation: false, responsive: true, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  });
})();
