// The judging page: shows one item at a time from /api/items/N and saves every action
// (an error span added or removed, a category, a score, a submit) to the same address.
// Offsets sent to the server count Unicode code points, as Python strings do; the page
// converts from the browser's UTF-16 offsets.
"use strict";

const INSTRUCTIONS = {
  esa:
    "Read the source (the sentences before and after it are shown in grey) and the " +
    "translation. Select each error in the translation with the mouse, then press 1 for a " +
    "minor error or 2 for a major one (or use the buttons). Major: the meaning is changed " +
    "or lost, or the text is hard to understand; minor: a flaw that does not get in the way " +
    "of understanding. Then score the translation from 0 (no meaning kept) to 100 (perfect) " +
    "with the slider or the box. Press n (or the right arrow) to submit and go on, p (or the " +
    "left arrow) to go back. Everything is saved as you go; you can close the page and " +
    "come back later.",
  mqm:
    "Read the source (with its neighbours in grey) and the translation. Select each error " +
    "in the translation with the mouse, pick its category in the list, then press 1 for a " +
    "minor error or 2 for a major one. If the text is not a translation of the source at " +
    "all, select it whole and choose non-translation. The MQM score counts the errors: " +
    "major 5, minor 1, minor punctuation 0.1, non-translation 25 (0 is perfect). No errors? " +
    "Just press n (or the right arrow) to submit and go on; p (or the left arrow) goes back. " +
    "Everything is saved as you go.",
  da:
    "Read the source (with its neighbours in grey) and the translation, and rate how well " +
    "the translation expresses the meaning of the source, from 0 (not at all) to 100 " +
    "(perfectly), with the slider or the box. Press n (or the right arrow) to submit and go " +
    "on, p (or the left arrow) to go back. Everything is saved as you go.",
};

const $ = (id) => document.getElementById(id);
let state = null; // from /api/state
let index = 0; // the item shown (state.items: the "all done" screen)
let item = null; // from /api/items/N
let judgment = { score: null, spans: [], complete: false };
let pending = null; // a selection in the translation: {start, end} in code points
let saving = Promise.resolve(true);

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function setStatus(text, isError) {
  const status = $("save-status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(isError));
}

function showProgress(complete) {
  state.complete = complete;
  $("progress").textContent = `${complete} / ${state.items}`;
  $("position").textContent = index < state.items ? `item ${index + 1}` : "";
}

// Every action calls save(): saves run one after another, in the order of the actions.
function save() {
  const body = JSON.stringify({
    score: judgment.score,
    spans: judgment.spans,
    complete: judgment.complete,
  });
  const at = index;
  saving = saving.then(async () => {
    setStatus("saving…");
    try {
      const reply = await api(`/api/items/${at}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body,
      });
      if (at === index) $("mqm-score").textContent = formatScore(reply.mqm_score);
      showProgress(reply.complete);
      setStatus("saved");
      return true;
    } catch (error) {
      setStatus(`not saved: ${error.message}`, true);
      return false;
    }
  });
  return saving;
}

function formatScore(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function fill(element, text, lang, dir) {
  element.textContent = text || "";
  element.lang = lang;
  element.dir = dir;
}

function renderTranslation() {
  const element = $("translation");
  const chars = Array.from(item.translation.text);
  element.replaceChildren();
  let at = 0;
  for (const span of judgment.spans) {
    if (span.start > at) element.append(chars.slice(at, span.start).join(""));
    const mark = document.createElement("mark");
    mark.className = `error ${span.severity}`;
    mark.title = span.category ? `${span.severity}: ${span.category}` : span.severity;
    mark.textContent = chars.slice(span.start, span.end).join("");
    element.append(mark);
    at = span.end;
  }
  if (at < chars.length) element.append(chars.slice(at).join(""));
  renderSpanList(chars);
}

function renderSpanList(chars) {
  const list = $("span-list");
  list.replaceChildren();
  judgment.spans.forEach((span, i) => {
    const entry = document.createElement("li");
    const quote = document.createElement("q");
    quote.textContent = chars.slice(span.start, span.end).join("");
    quote.dir = item.translation.dir;
    const severity = document.createElement("span");
    severity.className = "severity";
    severity.textContent = ` ${span.severity} `;
    entry.append(quote, severity);
    if (state.protocol === "mqm") {
      const select = categorySelect(span.category);
      select.addEventListener("change", () => {
        span.category = select.value;
        renderTranslation();
        save();
      });
      entry.append(select, " ");
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "remove";
    remove.className = "remove";
    remove.addEventListener("mousedown", (event) => event.preventDefault());
    remove.addEventListener("click", () => {
      judgment.spans.splice(i, 1);
      renderTranslation();
      save();
    });
    entry.append(remove);
    list.append(entry);
  });
}

function categorySelect(value) {
  const select = document.createElement("select");
  for (const [main, subs] of Object.entries(state.categories)) {
    const group = document.createElement("optgroup");
    group.label = main;
    for (const name of [main, ...subs.map((sub) => `${main}/${sub}`)]) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name === main ? `${main} (general)` : name.split("/")[1];
      group.append(option);
    }
    select.append(group);
  }
  select.value = value || "accuracy/mistranslation";
  return select;
}

function renderScore() {
  const range = $("score-range");
  const number = $("score-number");
  if (judgment.score === null || judgment.score === undefined) {
    range.value = 50;
    range.classList.add("unset");
    number.value = "";
  } else {
    range.value = judgment.score;
    range.classList.remove("unset");
    number.value = judgment.score;
  }
}

function showItem() {
  const source = item.source;
  fill($("context-before"), item.context.before, source.lang, source.dir);
  fill($("source"), source.text, source.lang, source.dir);
  fill($("context-after"), item.context.after, source.lang, source.dir);
  $("translation").lang = item.translation.lang;
  $("translation").dir = item.translation.dir;
  pending = null;
  $("selection-hint").textContent = "";
  $("message").textContent = "";
  renderTranslation();
  renderScore();
  $("mqm-score").textContent = formatScore(item.mqm_score);
  $("submitted").textContent = judgment.complete ? "✓ submitted" : "";
  $("item").hidden = false;
  $("done").hidden = true;
  showProgress(state.complete);
}

async function go(to) {
  if (!(await saving)) return; // an earlier save failed: stay, the message says why
  if (to >= state.items) {
    index = state.items;
    item = null;
    $("item").hidden = true;
    $("done").hidden = false;
    showProgress(state.complete);
    return;
  }
  try {
    item = await api(`/api/items/${to}`);
  } catch (error) {
    $("message").textContent = error.message;
    return;
  }
  index = to;
  judgment = {
    score: item.judgment.score,
    spans: item.judgment.spans,
    complete: item.judgment.complete,
  };
  showItem();
}

async function next() {
  if (!item) return;
  if (state.protocol !== "mqm" && judgment.score === null) {
    $("message").textContent = "Give the translation a score from 0 to 100 first.";
    $("score-number").focus();
    return;
  }
  judgment.complete = true;
  if (await save()) go(index + 1);
}

function previous() {
  if (index > 0) go(index - 1);
}

// --- marking errors -----------------------------------------------------------------

function selectedSpan() {
  const selection = window.getSelection();
  const element = $("translation");
  if (!selection.rangeCount || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!range.intersectsNode(element)) return null;
  const whole = document.createRange();
  whole.selectNodeContents(element);
  const offset = (node, at) => {
    if (whole.comparePoint(node, at) < 0) return 0;
    if (whole.comparePoint(node, at) > 0) return whole.toString().length;
    const head = document.createRange();
    head.setStart(element, 0);
    head.setEnd(node, at);
    return head.toString().length;
  };
  const text = item.translation.text;
  const points = (units) => Array.from(text.slice(0, units)).length;
  let start = points(offset(range.startContainer, range.startOffset));
  let end = points(offset(range.endContainer, range.endOffset));
  const chars = Array.from(text);
  while (start < end && /\s/.test(chars[start])) start += 1;
  while (end > start && /\s/.test(chars[end - 1])) end -= 1;
  return start < end ? { start, end } : null;
}

// The selection is kept as `pending` until it is marked, replaced, or dropped by a click in
// the translation or Escape: choosing a category in the list may clear the page's selection.
function onSelection() {
  if (!item) return;
  const span = selectedSpan();
  const selection = window.getSelection();
  const inTranslation = selection.anchorNode && $("translation").contains(selection.anchorNode);
  if (span) pending = span;
  else if (inTranslation || !selection.rangeCount) pending = null;
  else return;
  const chars = Array.from(item.translation.text);
  $("selection-hint").textContent = pending
    ? `Selected “${chars.slice(pending.start, pending.end).join("")}”: press 1 (minor) or 2 (major).`
    : "";
}

function mark(severity) {
  if (!item || state.protocol === "da") return;
  if (!pending) {
    $("message").textContent = "Select the error in the translation first.";
    return;
  }
  const span = { start: pending.start, end: pending.end, severity };
  if (judgment.spans.some((s) => s.start < span.end && span.start < s.end)) {
    $("message").textContent = "That overlaps an error already marked: remove it first.";
    return;
  }
  if (state.protocol === "mqm") span.category = $("category").value;
  judgment.spans.push(span);
  judgment.spans.sort((a, b) => a.start - b.start);
  pending = null;
  window.getSelection().removeAllRanges();
  $("selection-hint").textContent = "";
  $("message").textContent = "";
  renderTranslation();
  save();
}

// --- the score ------------------------------------------------------------------------

function setScore(value, commit) {
  if (value === "" || Number.isNaN(Number(value))) return;
  judgment.score = Math.min(100, Math.max(0, Math.round(Number(value))));
  renderScore();
  if (commit) save();
}

// --- keys -----------------------------------------------------------------------------

function onKey(event) {
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  const target = event.target;
  if (target.id === "score-number" || target.tagName === "SELECT") {
    if (event.key === "Enter" && target.id === "score-number") {
      setScore(target.value, true);
      target.blur();
      event.preventDefault();
    }
    return; // typing in a box: no shortcuts
  }
  const arrow = event.key === "ArrowLeft" || event.key === "ArrowRight";
  if (target.id === "score-range" && arrow) return; // the slider's own keys
  const actions = {
    1: () => mark("minor"),
    m: () => mark("minor"),
    2: () => mark("major"),
    M: () => mark("major"),
    n: next,
    ArrowRight: next,
    p: previous,
    ArrowLeft: previous,
    Escape: () => {
      window.getSelection().removeAllRanges();
      pending = null;
      $("selection-hint").textContent = "";
    },
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
}

async function start() {
  try {
    state = await api("/api/state");
  } catch (error) {
    setStatus(`cannot reach the server: ${error.message}`, true);
    return;
  }
  document.title = `Judging translations (${state.protocol.toUpperCase()})`;
  $("protocol").textContent = `${state.protocol.toUpperCase()} · ${state.annotator}`;
  $("instructions-text").textContent = INSTRUCTIONS[state.protocol];
  $("span-tools").hidden = state.protocol === "da";
  $("score-panel").hidden = state.protocol === "mqm";
  $("mqm").hidden = state.protocol !== "mqm";
  $("category-label").hidden = state.protocol !== "mqm";
  if (state.protocol === "mqm") {
    const select = Object.assign(categorySelect(), { id: "category" });
    select.addEventListener("change", () => select.blur()); // the keys 1 and 2 work again
    $("category").replaceWith(select);
  }

  for (const id of ["minor", "major", "prev", "next", "done-prev"]) {
    $(id).addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
  }
  $("minor").addEventListener("click", () => mark("minor"));
  $("major").addEventListener("click", () => mark("major"));
  $("next").addEventListener("click", next);
  $("prev").addEventListener("click", previous);
  $("done-prev").addEventListener("click", previous);
  $("score-range").addEventListener("input", (event) => setScore(event.target.value, false));
  $("score-range").addEventListener("change", (event) => setScore(event.target.value, true));
  $("score-number").addEventListener("input", (event) => {
    const value = Number(event.target.value);
    if (event.target.value === "" || Number.isNaN(value)) return;
    judgment.score = Math.min(100, Math.max(0, Math.round(value))); // saved on change or n
    $("score-range").value = judgment.score;
    $("score-range").classList.remove("unset");
  });
  $("score-number").addEventListener("change", (event) => setScore(event.target.value, true));
  document.addEventListener("selectionchange", onSelection);
  document.addEventListener("keydown", onKey);
  await go(state.position); // resume at the first item not submitted
}

start();
