// Tansuo's chat page: plain JS against the service's own OpenAI-compatible API, no CDN, no build.
// Answers stream over SSE; Tansuo's trace arrives as `event: tansuo` chunks (asked for with
// tansuo_events), the citations, verdicts and checked answer on the last chunk.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  conversations: JSON.parse(localStorage.getItem("tansuo.conversations") || "[]"),
  current: null,
};

function save() {
  localStorage.setItem("tansuo.conversations", JSON.stringify(state.conversations.slice(0, 50)));
}

// A conversation id nobody can guess: 128 random bits (crypto.getRandomValues works on plain http,
// where crypto.randomUUID is missing; the server also keeps each key's conversations apart).
function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = "Bearer " + key;
  return h;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderList() {
  const list = $("conversations");
  list.replaceChildren();
  for (const c of state.conversations) {
    const li = el("li", c.id === state.current ? "active" : "", c.title);
    li.dataset.id = c.id;
    li.title = c.title;
    li.onclick = () => openConversation(c.id);
    list.append(li);
  }
}

// Answer text with [n] turned into links to source n.
function renderText(node, text, sources) {
  node.replaceChildren();
  const byN = new Map((sources || []).map((s) => [s.n, s]));
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    node.append(text.slice(last, m.index));
    const s = byN.get(Number(m[1]));
    if (s) {
      const a = el("a", "cite", "[" + m[1] + "]");
      a.href = sourceHref(s);
      a.target = "_blank";
      a.title = s.title;
      node.append(a);
    } else {
      node.append(m[0]);
    }
    last = m.index + m[0].length;
  }
  node.append(text.slice(last));
}

function sourceHref(s) {
  if (/^https?:\/\//.test(s.source)) return s.source;
  return "/v1/sources/" + encodeURIComponent(s.chunk_id);
}

function addMessage(role, text) {
  const box = el("article", "msg " + role);
  const body = el("div", "text", text || "");
  box.append(body);
  $("messages").append(box);
  box.scrollIntoView({ block: "end" });
  return box;
}

function traceLine(ev) {
  switch (ev.type) {
    case "plan": return "plan: " + ev.action;
    case "search": return "search " + JSON.stringify(ev.query) + ": kept " + ev.kept;
    case "tool_call": return "call " + ev.name + "(" + JSON.stringify(ev.arguments) + ")";
    case "tool_result": return "result " + ev.name + ": " + (ev.ok ? JSON.stringify(ev.content) : "ERROR " + ev.error);
    case "check": return "check step " + ev.step + (ev.ok ? ": ok" : ": retry");
    case "problem": return "problem (" + ev.kind + "): " + ev.message;
    case "verdict": return "check " + ev.verifier + " " + ev.action + (ev.reason ? ": " + ev.reason : "");
    default: return null;
  }
}

function finish(box, extras, events) {
  const body = box.querySelector(".text");
  renderText(body, extras.answer ?? body.textContent, extras.sources);
  if (extras.notice) box.prepend(el("div", "notice", extras.notice));
  const badges = el("div", "badges");
  for (const b of extras.badges || []) badges.append(el("span", "badge " + b, b));
  if (extras.cached) badges.append(el("span", "badge cached", "cached"));
  if (badges.childElementCount) box.append(badges);
  for (const ev of events) {
    const plot = ev.type === "tool_result" && ev.ok && ev.content && ev.content.file;
    if (plot && /^plots\/[\w.-]+\.png$/.test(plot)) {
      const img = el("img", "plot");
      img.src = "/" + plot;
      img.alt = "plot from the " + ev.name + " tool";
      box.append(img);
    }
  }
  if ((extras.sources || []).length) {
    const ol = el("ol", "sources");
    for (const s of extras.sources) {
      const li = el("li");
      li.value = s.n;
      const a = el("a", "", s.title + (s.date ? " (" + s.date.slice(0, 10) + ")" : ""));
      a.href = sourceHref(s);
      a.target = "_blank";
      li.append(a);
      ol.append(li);
    }
    box.append(ol);
  }
  const lines = events.map(traceLine).filter(Boolean);
  if (extras.cached) {
    lines.unshift("answer cache: the stored answer to " + JSON.stringify(extras.cached.question) +
      " (similarity " + extras.cached.similarity + ", " + Math.round(extras.cached.age_s) + " s old)");
  }
  if (lines.length) {
    const details = el("details", "trace");
    details.append(el("summary", "", "Trace (" + lines.length + " steps)"));
    const ol = el("ol");
    for (const line of lines) ol.append(el("li", "trace-entry", line));
    details.append(ol);
    box.append(details);
  }
}

async function ask(question) {
  if (!state.current) {
    state.current = newId();
    state.conversations.unshift({ id: state.current, title: question.slice(0, 60) });
    save();
    renderList();
  }
  addMessage("user", question);
  const box = addMessage("assistant", "");
  const body = box.querySelector(".text");
  const events = [];
  let extras = null;
  $("status").textContent = "";
  $("send").disabled = true;
  try {
    const resp = await fetch("/v1/chat/completions", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({
        model: "tansuo", stream: true, tansuo_events: true, conversation_id: state.current,
        messages: [{ role: "user", content: question }],
      }),
    });
    if (!resp.ok) {
      const err = await resp.json().catch(() => ({}));
      throw new Error((err.error && err.error.message) || resp.status + " " + resp.statusText);
    }
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (!data || data === "[DONE]") continue;
        const msg = JSON.parse(data);
        if (msg.error) throw new Error(msg.error.message);
        if (msg.tansuo && msg.tansuo.event) {
          events.push(msg.tansuo.event);
          if (msg.tansuo.event.type === "answer_revised" && msg.tansuo.event.restart) body.textContent = "";
          continue;
        }
        const choice = msg.choices && msg.choices[0];
        if (choice && choice.delta && choice.delta.content) {
          body.textContent += choice.delta.content;
          box.scrollIntoView({ block: "end" });
        }
        if (msg.tansuo && msg.tansuo.answer !== undefined) extras = msg.tansuo;
      }
    }
    if (extras) finish(box, extras, events);
  } catch (e) {
    $("status").textContent = "Error: " + e.message;
    if (!body.textContent) box.remove();
  } finally {
    $("send").disabled = false;
  }
}

async function openConversation(id) {
  state.current = id;
  renderList();
  $("messages").replaceChildren();
  const resp = await fetch("/v1/conversations/" + encodeURIComponent(id), { headers: headers() });
  if (!resp.ok) {
    $("status").textContent = resp.status === 404 ? "This conversation has expired." : "Could not load it.";
    return;
  }
  const conv = await resp.json();
  for (const m of conv.messages) {
    const box = addMessage(m.role, "");
    renderText(box.querySelector(".text"), m.content, m.sources);
  }
}

$("ask").onsubmit = (e) => {
  e.preventDefault();
  const q = $("question").value.trim();
  if (!q) return;
  $("question").value = "";
  ask(q);
};
$("question").onkeydown = (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    $("ask").requestSubmit();
  }
};
$("new-chat").onclick = () => {
  state.current = null;
  $("messages").replaceChildren();
  renderList();
};
$("api-key").value = localStorage.getItem("tansuo.key") || "";
$("api-key").onchange = () => localStorage.setItem("tansuo.key", $("api-key").value.trim());
renderList();
