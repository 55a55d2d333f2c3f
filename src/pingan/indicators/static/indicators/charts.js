// Draws the 12-month trend of every indicator from the JSON the page embeds.
(function () {
  var node = document.getElementById("indicator-series");
  if (!node || !window.Chart) { return; }
  var series = JSON.parse(node.textContent);
  document.querySelectorAll("canvas[data-series]").forEach(function (canvas) {
    var s = series[Number(canvas.dataset.series)];
    new Chart(canvas, {
      type: "line",
      data: { labels: s.months, datasets: [{ label: s.label, data: s.values, spanGaps: false, borderColor: "#1f6f8b", backgroundColor: "#1f6f8b", tension: 0.2 }] },
      options: { animation: false, responsive: true, plugins: { legend: { display: true } }, scales: { y: { beginAtZero: true, suggestedMax: s.kind === "rate" ? 100 : undefined, title: { display: !!s.unit, text: s.unit } } } }
    });
  });
})();
