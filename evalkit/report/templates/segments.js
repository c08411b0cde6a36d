// The segment table of the evalkit report: rows come from the page's #segment-data element
// (see evalkit/report/segment_data.py for its layout) and are drawn a page at a time, only
// ever with createElement and text nodes: no text of a run is parsed as HTML. Control and
// bidi characters are drawn as the named markers the rest of the page shows.
(function () {
  "use strict";
  var viewer = document.getElementById("segment-viewer");
  var source = document.getElementById("segment-data");
  if (!viewer || !source) return;
  var table = document.getElementById("segments");
  var body = table.tBodies[0];
  var status = document.getElementById("seg-status");
  var controls = {
    search: document.getElementById("seg-search"),
    doc: document.getElementById("seg-doc"),
    system: document.getElementById("seg-system"),
    metric: document.getElementById("seg-metric"),
    min: document.getElementById("seg-min"),
    max: document.getElementById("seg-max"),
    flag: document.getElementById("seg-flag"),
    size: document.getElementById("seg-size"),
    prev: document.getElementById("seg-prev"),
    next: document.getElementById("seg-next"),
    page: document.getElementById("seg-page"),
  };
  var TRUNCATED = "the generation cap cut this translation off";

  function say(text) {
    status.textContent = text;
  }

  function decode(element) {
    var encoding = element.getAttribute("data-encoding");
    var text = element.textContent;
    if (encoding === "json") return Promise.resolve(JSON.parse(text));
    if (encoding !== "gzip+base64") return Promise.reject(new Error("unknown encoding"));
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error(
        "this browser cannot decompress it (DecompressionStream: Chrome 80, Firefox 113, " +
        "Safari 16.4 or later)"));
    }
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  Promise.resolve(source).then(decode).then(start).catch(function (error) {
    say("The segment table could not be drawn: " + error.message);
  });

  function start(data) {
    var S = data.strings;
    var col = {};
    data.columns.forEach(function (name, i) { col[name] = i; });
    var sc = {};
    data.system_columns.forEach(function (name, i) { sc[name] = i; });
    var rows = data.rows;
    var nSystems = data.systems.length;
    var hidden = new RegExp(data.hidden, "g");
    var names = data.names;
    var lower = new Array(S.length);  // lower-cased strings, filled as search needs them

    function codePoint(ch) {
      var hex = ch.charCodeAt(0).toString(16).toUpperCase();
      return "U+" + "0000".slice(hex.length) + hex;
    }
    // text as nodes; each hidden character as a marker naming it
    function appendText(parent, text) {
      hidden.lastIndex = 0;
      var last = 0, found;
      while ((found = hidden.exec(text)) !== null) {
        if (found.index > last) parent.appendChild(document.createTextNode(text.slice(last, found.index)));
        var point = codePoint(found[0]);
        var marker = document.createElement("span");
        marker.className = "ctl";
        marker.title = names[point] || point;
        marker.textContent = "<" + point + ">";
        parent.appendChild(marker);
        last = found.index + 1;
      }
      if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
      return parent;
    }
    // text where no element may stand (an option): hidden characters as <U+XXXX>
    function visible(text) {
      return text.replace(hidden, function (ch) { return "<" + codePoint(ch) + ">"; });
    }
    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined) appendText(node, text);
      return node;
    }
    function bdi(text) { return el("bdi", "", text); }
    // spans come in order, none overlapping (segment_data.span_cells); kept so here too
    function marked(text, spans) {
      var out = document.createElement("bdi");
      var position = 0;
      spans.forEach(function (span) {
        var start = Math.max(span[0], position), end = Math.min(span[1], text.length);
        if (start >= end) return;
        var severity = S[span[2]].replace(/[^a-z]/g, "") || "unknown";
        appendText(out, text.slice(position, start));
        var mark = el("mark", "span-" + severity, text.slice(start, end));
        mark.title = severity + " error" +
          (span[3] === null ? "" : ", confidence " + span[3].toFixed(2));
        out.appendChild(mark);
        position = end;
      });
      appendText(out, text.slice(position));
      return out;
    }
    function segLabel(ids) {
      return ids.length < 4 ? ids.join(",") : ids[0] + "-" + ids[ids.length - 1];
    }
    function linkText(row) {
      if (row[col.confidence] === null) return "";
      var refs = row[col.ref_ids].join(",") || "–";
      var flags = row[col.flags].map(function (f) { return S[f]; }).join(", ");
      return "→ ref " + refs + " · conf " + row[col.confidence].toFixed(2) + (flags ? " " + flags : "");
    }

    // the choices that come from the data: documents and flags
    var docs = [], seenDoc = {}, flags = [], seenFlag = {};
    rows.forEach(function (row) {
      if (!seenDoc[row[col.doc]]) { seenDoc[row[col.doc]] = true; docs.push(row[col.doc]); }
      var all = row[col.flags];
      row[col.systems].forEach(function (s) { all = all.concat(s[sc.flags]); });
      all.forEach(function (f) { if (!seenFlag[f]) { seenFlag[f] = true; flags.push(f); } });
    });
    docs.forEach(function (d) {
      var option = document.createElement("option");
      option.value = String(d);
      option.textContent = visible(S[d]);
      controls.doc.appendChild(option);
    });
    flags.forEach(function (f) {
      var option = document.createElement("option");
      option.value = "f" + f;
      option.textContent = visible(S[f]);
      controls.flag.appendChild(option);
    });

    var state = { page: 0, sortSystem: null, sortMetric: null, sortDoc: false, dir: -1 };
    var shown = [];  // indexes of the rows that pass the filters, in display order
    var drawn = 0;  // how many times the rows were drawn

    function number(input) {
      return input.value.trim() === "" || isNaN(parseFloat(input.value)) ? null : parseFloat(input.value);
    }
    function contains(index, needle) {
      if (index === null) return false;
      if (lower[index] === undefined) lower[index] = S[index].toLowerCase();
      return lower[index].indexOf(needle) >= 0;
    }
    function systemsOf(system) {
      if (system >= 0) return [system];
      var all = [];
      for (var k = 0; k < nSystems; k++) all.push(k);
      return all;
    }

    function filter() {
      var needle = controls.search.value.trim().toLowerCase();
      var doc = controls.doc.value === "" ? null : parseInt(controls.doc.value, 10);
      var system = controls.system.value === "" ? -1 : parseInt(controls.system.value, 10);
      var metric = parseInt(controls.metric.value, 10);
      var low = number(controls.min), high = number(controls.max);
      var flag = controls.flag.value;
      var wanted = flag.charAt(0) === "f" ? parseInt(flag.slice(1), 10) : null;
      var ks = systemsOf(system);
      shown = [];
      for (var i = 0; i < rows.length; i++) {
        var row = rows[i], systems = row[col.systems];
        if (doc !== null && row[col.doc] !== doc) continue;
        if (needle) {
          var hit = contains(row[col.src], needle) || contains(row[col.ref], needle) ||
            row[col.more_refs].some(function (r) { return contains(r, needle); }) ||
            ks.some(function (k) { return contains(systems[k][sc.hyp], needle); });
          if (!hit) continue;
        }
        if ((low !== null || high !== null) && !isNaN(metric)) {
          var inRange = ks.some(function (k) {
            var v = systems[k][sc.scores][metric];
            return v !== null && (low === null || v >= low) && (high === null || v <= high);
          });
          if (!inRange) continue;
        }
        if (flag === "flagged") {
          if (!row[col.flags].length && !ks.some(function (k) { return systems[k][sc.flags].length; })) continue;
        } else if (flag === "spans") {
          if (!ks.some(function (k) { return systems[k][sc.spans] !== null; })) continue;
        } else if (wanted !== null) {
          if (row[col.flags].indexOf(wanted) < 0 &&
              !ks.some(function (k) { return systems[k][sc.flags].indexOf(wanted) >= 0; })) continue;
        }
        shown.push(i);
      }
      sort();
    }

    function sort() {
      var dir = state.dir;
      if (state.sortDoc) {
        shown.sort(function (a, b) {
          return dir * S[rows[a][col.doc]].localeCompare(S[rows[b][col.doc]]) || a - b;
        });
      } else if (state.sortSystem !== null) {
        var k = state.sortSystem, m = state.sortMetric;
        shown.sort(function (a, b) {
          var u = rows[a][col.systems][k][sc.scores][m], v = rows[b][col.systems][k][sc.scores][m];
          if (u === null && v === null) return a - b;
          if (u === null) return 1;
          if (v === null) return -1;
          return dir * (u - v) || a - b;
        });
      }
    }

    function showColumns(system) {
      var cells = table.tHead.rows[0].cells;
      for (var c = 0; c < cells.length; c++) {
        var of = cells[c].getAttribute("data-system");
        cells[c].hidden = of !== null && system >= 0 && parseInt(of, 10) !== system;
      }
    }

    function renderRow(i) {
      var row = rows[i];
      var tr = document.createElement("tr");
      if (row[col.flags].length) tr.className = "flagged";
      tr.appendChild(el("td")).appendChild(bdi(S[row[col.doc]]));
      var seg = el("td", "", segLabel(row[col.src_ids]));
      var link = linkText(row);
      if (link) seg.appendChild(el("div", "link", link));
      tr.appendChild(seg);
      var src = el("td", "text ar");
      src.dir = "rtl";
      src.lang = "ar";
      src.appendChild(bdi(S[row[col.src]]));
      tr.appendChild(src);
      var ref = el("td", "text");
      ref.lang = "en";
      if (row[col.ref] === null) ref.textContent = "–"; else ref.appendChild(bdi(S[row[col.ref]]));
      row[col.more_refs].forEach(function (r, n) {
        var more = el("div", "more-ref");
        more.appendChild(el("span", "notes", "ref " + (n + 2) + ": "));
        more.appendChild(bdi(S[r]));
        ref.appendChild(more);
      });
      tr.appendChild(ref);
      var system = controls.system.value === "" ? -1 : parseInt(controls.system.value, 10);
      systemsOf(system).forEach(function (k) {
        var s = row[col.systems][k];
        var text = s[sc.hyp] === null ? "" : S[s[sc.hyp]];
        var hyp = el("td", "text");
        hyp.appendChild(s[sc.spans] ? marked(text, s[sc.spans]) : bdi(text));
        s[sc.flags].forEach(function (f) {
          hyp.appendChild(document.createTextNode(" "));
          var badge = el("span", "flag", S[f]);
          if (S[f] === "truncated") badge.title = TRUNCATED;
          hyp.appendChild(badge);
        });
        tr.appendChild(hyp);
        s[sc.scores].forEach(function (v) {
          var cell = el("td", "num", v === null ? "–" : v.toFixed(2));
          cell.setAttribute("data-value", v === null ? "" : String(v));
          tr.appendChild(cell);
        });
      });
      return tr;
    }

    function render() {
      var size = parseInt(controls.size.value, 10);
      var pages = Math.max(1, Math.ceil(shown.length / size));
      state.page = Math.min(Math.max(0, state.page), pages - 1);
      var first = state.page * size;
      var fragment = document.createDocumentFragment();
      shown.slice(first, first + size).forEach(function (i) { fragment.appendChild(renderRow(i)); });
      body.textContent = "";
      body.appendChild(fragment);
      showColumns(controls.system.value === "" ? -1 : parseInt(controls.system.value, 10));
      controls.prev.disabled = state.page === 0;
      controls.next.disabled = state.page >= pages - 1;
      controls.page.textContent = "page " + (state.page + 1) + " of " + pages;
      say(shown.length
        ? "rows " + (first + 1) + "–" + Math.min(first + size, shown.length) + " of " +
          shown.length + " shown (" + rows.length + " in all)"
        : "no row matches (" + rows.length + " in all)");
      drawn += 1;
      viewer.setAttribute("data-drawn", String(drawn));  // (tests wait on it)
      viewer.setAttribute("data-shown", String(shown.length));
      viewer.setAttribute("data-page", String(state.page + 1));
    }

    // what the filters ask for: a change event that changes nothing redraws nothing
    function filters() {
      return [controls.search.value.trim(), controls.doc.value, controls.system.value,
        controls.metric.value, controls.min.value, controls.max.value, controls.flag.value].join("\u0000");
    }
    var asked = null;
    function refilter() {
      if (filters() === asked) return;
      asked = filters();
      state.page = 0;
      filter();
      render();
    }
    // typing filters after a pause; a field emptied at once (clear(), a form reset) too
    var timer = null;
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refilter, 150);
    }
    [controls.search, controls.min, controls.max].forEach(function (c) {
      c.addEventListener("input", later);
      c.addEventListener("change", later);
    });
    [controls.doc, controls.system, controls.metric, controls.flag].forEach(function (c) {
      c.addEventListener("change", refilter);
    });
    controls.size.addEventListener("change", function () { state.page = 0; render(); });
    controls.prev.addEventListener("click", function () { state.page -= 1; render(); });
    controls.next.addEventListener("click", function () { state.page += 1; render(); });

    var headers = table.tHead.rows[0].cells;
    for (var h = 0; h < headers.length; h++) {
      if (!headers[h].classList.contains("sortable")) continue;
      headers[h].addEventListener("click", (function (th) { return function () {
        state.dir = th.getAttribute("data-dir") === "desc" ? 1 : -1;
        th.setAttribute("data-dir", state.dir === 1 ? "asc" : "desc");
        state.sortDoc = th.getAttribute("data-type") === "text";
        state.sortSystem = state.sortDoc ? null : parseInt(th.getAttribute("data-system"), 10);
        state.sortMetric = state.sortDoc ? null : parseInt(th.getAttribute("data-metric"), 10);
        state.page = 0;
        filter();
        render();
      }; })(headers[h]));
    }

    asked = filters();
    filter();
    render();
    viewer.setAttribute("data-ready", String(Math.round(performance.now())));
  }
})();
