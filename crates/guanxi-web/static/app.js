// Guanxi page behaviour: keyboard shortcuts, search-result navigation, charts. No framework;
// htmx does the partial updates.
(function () {
  "use strict";
  // Deferred scripts run before DOMContentLoaded, in order; wait for it so ECharts (loaded after
  // this file) is there.
  function onReady(f) { if (document.readyState === "complete") f(); else document.addEventListener("DOMContentLoaded", f); }

  onReady(function () {
    var search = document.getElementById("global-search");
    var results = document.getElementById("search-results");

    // "/" focuses the search box from anywhere but a text field; Esc leaves it.
    document.addEventListener("keydown", function (e) {
      var t = e.target, typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
      if (e.key === "/" && !typing && search) { e.preventDefault(); search.focus(); search.select(); }
      if (e.key === "Escape" && results) { results.innerHTML = ""; if (search && t === search) search.blur(); }
    });

    // Arrow keys move through the hits; Enter on a hit opens it (Enter in the box submits the
    // form, which opens the best match on the server).
    if (search && results) {
      var move = function (dir) {
        var hits = Array.prototype.slice.call(results.querySelectorAll("a.hit"));
        if (!hits.length) return;
        var i = hits.indexOf(document.activeElement);
        var next = i < 0 ? (dir > 0 ? 0 : hits.length - 1) : i + dir;
        if (next < 0) { search.focus(); return; }
        hits[Math.min(next, hits.length - 1)].focus();
      };
      search.addEventListener("keydown", function (e) { if (e.key === "ArrowDown") { e.preventDefault(); move(1); } });
      results.addEventListener("keydown", function (e) {
        if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
        if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      });
      document.addEventListener("click", function (e) { if (!e.target.closest || !e.target.closest("form.search")) results.innerHTML = ""; });
    }

    // "Select all" in the customer list.
    var all = document.getElementById("select-all");
    if (all) all.addEventListener("change", function () {
      document.querySelectorAll('input[name="ids"]').forEach(function (b) { b.checked = all.checked; });
    });

    // Charts: options come from the server as JSON; an optional `links` array makes each data
    // point (or graph node) a link to the customers behind it.
    if (window.echarts) {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var opt;
        try { opt = JSON.parse(el.getAttribute("data-chart")); } catch (err) { return; }
        var links = opt.links; delete opt.links;
        var chart = window.echarts.init(el, null, { renderer: "svg" });
        chart.setOption(opt);
        if (links) chart.on("click", function (p) { var u = links[p.dataIndex]; if (u && p.dataType !== "edge") window.location.href = u; });
        window.addEventListener("resize", function () { chart.resize(); });
        el.setAttribute("data-rendered", "1");
      });
    }
  });
})();
