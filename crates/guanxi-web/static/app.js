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

    // Rule form: only the inputs of the chosen trigger are shown (all of them without script).
    var trig = document.getElementById("rule-trigger");
    if (trig) {
      var showParams = function () {
        document.querySelectorAll("[data-trigger-kinds]").forEach(function (el) {
          el.hidden = el.getAttribute("data-trigger-kinds").split(" ").indexOf(trig.value) < 0;
        });
      };
      trig.addEventListener("change", showParams);
      showParams();
    }

    // Survey form: the question rows are for a custom survey only.
    var skind = document.getElementById("survey-kind");
    var sq = document.getElementById("survey-questions");
    if (skind && sq) {
      var showQuestions = function () { sq.hidden = skind.value !== "custom"; };
      skind.addEventListener("change", showQuestions);
      showQuestions();
    }

    // Confirm destructive buttons (delete a segment).
    document.querySelectorAll("[data-confirm]").forEach(function (b) {
      b.addEventListener("click", function (e) { if (!window.confirm(b.getAttribute("data-confirm"))) e.preventDefault(); });
    });

    // Segment editor: a row's field decides its conditions, its value box (text or a list of
    // codes) and whether "last N days" applies; rows are added from a template and removed in
    // place. Every change asks the server for the size again (htmx, event "segchange"). The
    // catalogue is JSON in an attribute, escaped like any other attribute (a user named
    // `</script>` stays text): never raw JSON inside a <script>.
    var segForm = document.getElementById("segment-form");
    var catEl = document.getElementById("seg-catalogue");
    if (segForm && catEl) {
      var cat = {};
      try { JSON.parse(catEl.getAttribute("data-catalogue")).forEach(function (f) { cat[f.code] = f; }); } catch (err) { cat = {}; }
      var rows = document.getElementById("seg-rows");
      var changed = function () { segForm.dispatchEvent(new Event("segchange", { bubbles: true })); };
      var option = function (pair) { var o = document.createElement("option"); o.value = pair[0]; o.textContent = pair[1]; return o; };
      var valueBox = function (row) {
        var spec = cat[row.querySelector(".seg-field").value], op = row.querySelector(".seg-op").value;
        var label = row.querySelector(".seg-value"), old = label.querySelector("[name=value]");
        var el;
        if (spec && spec.choices.length && op !== "in") {
          el = document.createElement("select");
          spec.choices.forEach(function (c) { el.appendChild(option(c)); });
        } else {
          el = document.createElement("input");
          if (spec && (spec.kind === "number" || spec.kind === "days")) el.setAttribute("inputmode", "decimal");
          if (spec && spec.kind === "month") { el.type = "month"; el.placeholder = "YYYY-MM"; }
          if (op === "empty" || op === "not_empty") el.placeholder = "—";
        }
        el.name = "value";
        label.replaceChild(el, old);
      };
      var fieldChanged = function (row) {
        var spec = cat[row.querySelector(".seg-field").value];
        if (!spec) return;
        var ops = row.querySelector(".seg-op");
        ops.innerHTML = "";
        spec.ops.forEach(function (o) { ops.appendChild(option(o)); });
        var days = row.querySelector(".seg-days");
        days.hidden = !spec.days;
        if (!spec.days) days.querySelector("input").value = "";
        valueBox(row);
      };
      rows.addEventListener("change", function (e) {
        var row = e.target.closest(".seg-row");
        if (!row) return;
        if (e.target.classList.contains("seg-field")) fieldChanged(row);
        else if (e.target.classList.contains("seg-op")) {
          var v = row.querySelector("[name=value]");
          var wantsText = e.target.value === "in";
          if ((v.tagName === "SELECT") === wantsText) valueBox(row);
        }
      });
      // A group is a header row followed by its conditions (class "nested", depth 1).
      var lastOfGroup = function (head) {
        var last = head;
        while (last.nextElementSibling && last.nextElementSibling.classList.contains("nested")) last = last.nextElementSibling;
        return last;
      };
      var insertAfter = function (templateId, after) {
        var node = document.getElementById(templateId).content.firstElementChild.cloneNode(true);
        if (after) after.after(node); else rows.appendChild(node);
        var f = node.querySelector(".seg-field"); if (f) f.focus();
        return node;
      };
      rows.addEventListener("click", function (e) {
        var row = e.target.closest(".seg-row");
        if (!row) return;
        if (e.target.classList.contains("seg-add-child")) {
          insertAfter("seg-child-template", lastOfGroup(row));
          changed();
          return;
        }
        if (!e.target.classList.contains("seg-remove")) return;
        if (row.classList.contains("group-head")) {
          while (row.nextElementSibling && row.nextElementSibling.classList.contains("nested")) row.nextElementSibling.remove();
        }
        row.remove();
        changed();
      });
      document.getElementById("add-clause").addEventListener("click", function () {
        insertAfter("seg-row-template", null);
        changed();
      });
      var addGroup = document.getElementById("add-group");
      if (addGroup) addGroup.addEventListener("click", function () {
        var head = insertAfter("seg-group-template", null);
        insertAfter("seg-child-template", head);
        insertAfter("seg-child-template", lastOfGroup(head));
        changed();
      });
    }

    // SLA countdowns: a <time class="countdown" datetime=…> counts down to its due time every
    // second ("%s left" / "%s overdue" from the page's language, h:mm:ss so no unit words).
    var clocks = document.querySelectorAll("time.countdown");
    if (clocks.length) {
      var hms = function (ms) {
        var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
        s = s % 60;
        return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
      };
      var tickClocks = function () {
        var now = Date.now();
        clocks.forEach(function (el) {
          var due = Date.parse(el.getAttribute("datetime"));
          if (isNaN(due)) return;
          var left = due - now, fmt = el.getAttribute(left >= 0 ? "data-left" : "data-over") || "%s";
          el.textContent = fmt.replace("%s", hms(left));
          el.classList.toggle("over", left < 0);
        });
      };
      tickClocks();
      setInterval(tickClocks, 1000);
    }

    // Charts: options come from the server as JSON; an optional `links` array makes each data
    // point (or graph node) a link to the customers behind it, `series_links` each series (a
    // line over time links to the customers it counts now).
    if (window.echarts) {
      document.querySelectorAll("[data-chart]").forEach(function (el) {
        var opt;
        try { opt = JSON.parse(el.getAttribute("data-chart")); } catch (err) { return; }
        var links = opt.links, seriesLinks = opt.series_links; delete opt.links; delete opt.series_links;
        var chart = window.echarts.init(el, null, { renderer: "svg" });
        chart.setOption(opt);
        if (links || seriesLinks) chart.on("click", function (p) {
          var u = seriesLinks ? seriesLinks[p.seriesIndex] : links[p.dataIndex];
          if (u && p.dataType !== "edge") window.location.href = u;
        });
        window.addEventListener("resize", function () { chart.resize(); });
        // "Rendered" means drawn to the end of the opening animation: until then a bar is
        // shorter than its value and a click on it can miss.
        chart.on("finished", function () { el.setAttribute("data-rendered", "1"); });
      });
    }

    // The kanban: dropping a card on a column submits the card's own move form with that
    // column's stage — the same POST the keyboard's select and button send.
    var kanban = document.getElementById("kanban");
    if (kanban) {
      var dragged = null;
      kanban.addEventListener("dragstart", function (e) {
        var card = e.target.closest && e.target.closest(".kanban-card");
        if (!card) return;
        dragged = card;
        e.dataTransfer.effectAllowed = "move";
        e.dataTransfer.setData("text/plain", card.getAttribute("data-opportunity"));
      });
      var column = function (e) { return e.target.closest && e.target.closest(".kanban-column"); };
      kanban.addEventListener("dragover", function (e) {
        var c = column(e);
        if (!c || !dragged) return;
        e.preventDefault();
        c.classList.add("drop");
      });
      kanban.addEventListener("dragleave", function (e) { var c = column(e); if (c) c.classList.remove("drop"); });
      kanban.addEventListener("drop", function (e) {
        var c = column(e);
        if (!c || !dragged) return;
        e.preventDefault();
        c.classList.remove("drop");
        var form = dragged.querySelector("form.move");
        var select = form && form.querySelector("select[name=stage_id]");
        if (!select || select.value === c.getAttribute("data-stage")) { dragged = null; return; }
        select.value = c.getAttribute("data-stage");
        c.appendChild(dragged);
        dragged = null;
        form.submit();
      });
    }
  });
})();
