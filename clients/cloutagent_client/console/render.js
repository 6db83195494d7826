// DOM for what an agent produces (execution.message data, docs/protocol.md "Executions"), what
// a run delivered to the project's repository (execution.git, execution.diff: "Repositories"), and
// what the team steers it with (permission.request, permission.resolved, …: "Steering a run").
// Text only: whatever came over the wire goes in through textContent, never innerHTML. The one
// exception is the agent's own text, which is Markdown: see markdown() for what it may become.

import { Marked } from "./vendor/marked.esm.js";
import DOMPurify from "./vendor/purify.es.js";

const TOOL_ARGUMENT = { Bash: "command", Read: "file_path", Write: "file_path", Edit: "file_path",
  Glob: "pattern", Grep: "pattern", WebFetch: "url", WebSearch: "query", Task: "description" };
const RESULT_LINES = 12;

// Control and format characters would hide or disguise what a name or the agent's output says
// (U+202E shows "exe.gpj" as "jpg.exe", zero-width ones hide, ESC and BEL are noise): they show as
// visible escapes (\u202e). Newlines and tabs stay; a zero-width joiner between two non-ASCII
// characters stays too (emoji, Persian, Indic scripts).
const UNSHOWABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/gu;

function joins(text, at) {
  return at > 0 && at < text.length - 1 && text.charCodeAt(at - 1) > 127 && text.charCodeAt(at + 1) > 127;
}

export function shown(value) {
  return String(value).replace(UNSHOWABLE, (char, at, text) => {
    if (char === "\n" || char === "\t") return char;
    if ((char === "\u200c" || char === "\u200d") && joins(text, at)) return char;
    return `\\u${char.codePointAt(0).toString(16).padStart(4, "0")}`;
  });
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = shown(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : shown(child));
  }
  return node;
}

// The agent's text is Markdown. marked makes it HTML (nothing in marked makes it safe); DOMPurify then
// keeps only these tags and attributes, parsed in an inert document. No script, style, form, frame
// or event handler survives; an image becomes its alt text, so nothing loads from where the agent
// points; a link needs an http(s) URL and opens in a new tab without an opener or referrer.
// HTML written into the Markdown (`<img onerror=…>`, `<script>`) is shown as the text it is, not
// parsed: the agent writes Markdown, and markup it slips in is something to read, not to run.
const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const asText = (html) => String(html).replace(/[&<>"']/g, (char) => ESCAPES[char]);
const MARKED = new Marked({ gfm: true, breaks: false, async: false,
  renderer: { html: (token) => asText(token.text ?? token.raw ?? "") } });
const PURIFY = {
  ALLOWED_TAGS: ["p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code",
    "em", "strong", "del", "a", "img", "table", "thead", "tbody", "tr", "th", "td"],
  ALLOWED_ATTR: ["href", "title", "alt", "start", "align"],
  // DOMPurify's own URL rule with http(s) the only scheme (it also vets align="center", start="3").
  ALLOWED_URI_REGEXP: /^(?:https?:|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false, RETURN_DOM_FRAGMENT: true,
};

export function markdown(text) {
  const fragment = DOMPurify.sanitize(MARKED.parse(String(text)), PURIFY);
  for (const image of fragment.querySelectorAll("img")) image.replaceWith(image.getAttribute("alt") || "");
  for (const link of fragment.querySelectorAll("a")) {
    const href = webUrl(link.getAttribute("href"));
    if (href) Object.assign(link, { href, target: "_blank", rel: "noopener noreferrer" });
    else link.removeAttribute("href");
  }
  // The same visible escapes as textContent gets, also for what an entity (&#x202e;) decoded to.
  for (const node of fragment.querySelectorAll("*")) {
    for (const attribute of node.attributes) attribute.value = shown(attribute.value);
  }
  const texts = document.createTreeWalker(fragment, NodeFilter.SHOW_TEXT);
  while (texts.nextNode()) texts.currentNode.nodeValue = shown(texts.currentNode.nodeValue);
  return fragment;
}

function compact(value, limit = 120) {
  const text = (typeof value === "string" ? value : JSON.stringify(value ?? {})).replace(/\s+/g, " ").trim();
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

function resultText(content) {
  if (content === null || content === undefined) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((b) => (b && b.text) || "").join("\n");
  return JSON.stringify(content, null, 2);
}

export function toolCall(name, input) {
  const key = TOOL_ARGUMENT[name];
  return key && input && typeof input[key] === "string" ? compact(input[key]) : compact(input);
}

// One content block as an element, or null for bookkeeping the status line shows instead.
export function message(data) {
  switch (data.kind) {
    case "text":
      return data.role === "assistant"
        ? el("div", { class: "msg text" }, markdown(data.text))
        : el("div", { class: "msg user" }, `› ${data.text}`);
    case "thinking":
      return el("details", { class: "msg thinking" }, el("summary", {}, "Thinking"), el("p", {}, data.thinking));
    case "tool_use":
      return el("div", { class: "msg tool" }, el("span", { class: "tool-name" }, data.name), " ",
        el("code", {}, toolCall(data.name, data.input)));
    case "tool_result": {
      const lines = resultText(data.content).trim().split("\n");
      const shown = lines.slice(0, RESULT_LINES).join("\n") || "(no output)";
      const more = lines.length > RESULT_LINES ? `\n… (+${lines.length - RESULT_LINES} lines)` : "";
      return el("pre", { class: `msg result${data.isError ? " failed" : ""}` }, shown + more);
    }
    case "system":
      if (data.subtype === "init") return el("div", { class: "msg meta" }, `model ${data.model || "?"} · session ${data.sessionId || "new"}`);
      if (data.subtype === "api_error" || data.subtype === "rate_limit") {
        return el("div", { class: "msg warn" }, `${data.subtype}: ${compact(data.error || data.status || data)}`);
      }
      return null;
    case "unsupported":
      return el("div", { class: "msg meta" }, `(a ${data.type} block this console cannot show)`);
    default:
      return null;
  }
}

// ---- steering a run ------------------------------------------------------------------------------

// What the tool would do, in full: the command (path, URL, …) as it is, then its other fields.
export function toolInput(data) {
  const input = { ...(data.input || {}) };
  const key = TOOL_ARGUMENT[data.toolName];
  const parts = [];
  if (key && typeof input[key] === "string") {
    parts.push(input[key]);
    delete input[key];
  }
  if (input.description === data.description) delete input.description; // shown above already
  if (Object.keys(input).length) parts.push(JSON.stringify(input, null, 2));
  return parts.join("\n");
}

// "Allowed by you", "Allowed for this run by u_…", "Denied by u_…: not in main", "Denied: timeout".
export function resolution(data, kind, me) {
  if (data.reason === "timeout") return "Denied: timeout (nobody answered)";
  if (data.reason === "cancelled") return "Cancelled with the run";
  const by = data.by ? ` by ${data.by === me ? "you" : data.by}` : "";
  if (data.decision === "allow") {
    if (kind === "question") return `Answered${by}`;
    return `Allowed${data.scope === "run" ? " for this run" : ""}${by}`;
  }
  return `Denied${by}${data.message ? `: ${data.message}` : ""}`;
}

function questionForm(data, onAnswer, note) {
  const questions = Array.isArray(data.input?.questions) ? data.input.questions : [];
  const form = el("form", { class: "request-form" });
  const fields = questions.map((q, i) => {
    const name = `${data.requestId}-q${i}`;
    const choices = (q.options || []).map((option) => el("input", { type: q.multiSelect ? "checkbox" : "radio", name,
      value: String(option.label) }));
    const own = el("input", { type: "text", name: `${name}-own`, maxlength: 10000, autocomplete: "off" });
    form.append(el("fieldset", { class: "question" },
      el("legend", {}, q.header ? `${q.header}: ${q.question}` : String(q.question)),
      ...(q.options || []).map((option, k) => el("label", { class: "inline option" }, choices[k], String(option.label),
        option.description ? el("span", { class: "hint" }, ` — ${option.description}`) : null)),
      el("label", { class: "own" }, "Or in your own words", own)));
    return { question: String(q.question), choices, own };
  });
  form.append(el("button", { type: "submit", class: "primary" }, "Submit"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const answers = {};
    for (const { question, choices, own } of fields) {
      // Own words win; several chosen labels are joined with ", " (docs/protocol.md).
      const answer = own.value.trim() || choices.filter((c) => c.checked).map((c) => c.value).join(", ");
      if (!answer) {
        note.textContent = `Answer "${question}" first.`;
        return;
      }
      answers[question] = answer;
    }
    onAnswer({ decision: "allow", answers });
  });
  return form;
}

function permissionActions(onAnswer) {
  const why = el("input", { type: "text", class: "deny-message", maxlength: 2000, autocomplete: "off",
    placeholder: "Why not? (told to the agent)", "aria-label": "Message for the agent when denying" });
  return el("div", { class: "row request-actions" },
    el("button", { type: "button", class: "primary", onclick: () => onAnswer({ decision: "allow", scope: "once" }) }, "Allow"),
    el("button", { type: "button", onclick: () => onAnswer({ decision: "allow", scope: "run" }) }, "Allow for this run"),
    why,
    el("button", { type: "button", class: "danger",
      onclick: () => onAnswer({ decision: "deny", ...(why.value.trim() ? { message: why.value.trim() } : {}) }) }, "Deny"));
}

// A permission.request as a card. onAnswer(reply) sends permission.respond with reply's decision,
// scope, message or answers; without it (a viewer, a transcript) the card has no controls.
export function requestCard(data, { onAnswer = null, note = null } = {}) {
  const question = data.kind === "question";
  const card = el("article", { class: `request ${question ? "question" : "permission"}`, "data-request-id": data.requestId,
    "aria-label": `${question ? "Question" : "Permission request"} ${data.requestId}` });
  card.append(el("p", { class: "request-head" },
    question ? "The agent asks" : el("span", {}, "The agent wants to use ", el("strong", { class: "tool-name" }, data.toolName)),
    " ", el("code", { class: "request-id" }, data.requestId)));
  for (const extra of [data.title, data.description, data.reason]) if (extra) card.append(el("p", { class: "hint" }, extra));
  if (!question) card.append(el("pre", { class: "request-input" }, toolInput(data)));
  const outcome = el("p", { class: "request-outcome", role: "status" });
  if (onAnswer) card.append(question ? questionForm(data, onAnswer, outcome) : permissionActions(onAnswer));
  else if (question) {
    for (const q of data.input?.questions || []) {
      card.append(el("p", {}, q.question, el("span", { class: "hint" }, ` (${(q.options || []).map((o) => o.label).join(" / ")})`)));
    }
  }
  if (note) card.append(el("p", { class: "hint" }, note));
  card.append(outcome);
  return card;
}

// The card once answered: its controls go, the outcome says how and by whom.
export function resolveCard(card, data, me) {
  card.querySelectorAll(".request-form, .request-actions").forEach((node) => node.remove());
  card.classList.add("resolved", data.decision === "allow" ? "allowed" : "denied");
  card.querySelector(".request-outcome").textContent = resolution(data, card.classList.contains("question") ? "question" : "permission", me);
}

// execution.input and execution.interrupt, as lines of the run.
export function steeringNote(name, data, me) {
  const by = data.by === me ? "you" : data.by;
  if (name === "execution.input") return el("div", { class: "msg user follow-up" }, `› ${data.text}`, el("span", { class: "hint" }, ` (follow-up from ${by})`));
  if (name === "execution.interrupt") return el("div", { class: "msg warn" }, `⏸ Turn interrupted by ${by}`);
  return null;
}

export function tokens(usage) {
  const u = usage || {};
  return (u.inputTokens || 0) + (u.outputTokens || 0) + (u.cacheReadTokens || 0) + (u.cacheWriteTokens || 0);
}

export function money(value) {
  return value === null || value === undefined ? "$—" : `$${Number(value).toFixed(4)}`;
}

export function seconds(ms) {
  return `${((ms || 0) / 1000).toFixed(1)} s`;
}

// "completed · 2.1 s · 24,774 tokens · $0.0143"
// `wallMs`, when given, is the time the page watched the run (what its live timer showed): the
// agent's own time (durationMs) leaves out the executor's start, so both are shown.
export function summary(finished, wallMs = null) {
  const agent = seconds(finished.durationMs);
  const took = wallMs === null ? agent : `${seconds(wallMs)} (agent ${agent})`;
  const parts = [finished.status, took, `${tokens(finished.usage).toLocaleString("en-US")} tokens`,
    money(finished.costUsd)];
  if (finished.error) parts.push(finished.errorCode ? `${finished.error} (${finished.errorCode})` : finished.error);
  else if (finished.errorCode) parts.push(finished.errorCode);
  return parts.join(" · ");
}

// A link target only if it is http(s): a javascript: or data: URL from the wire stays text.
export function webUrl(value) {
  try {
    const url = new URL(String(value));
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

// execution.git: "⎇ branch · 1 file changed +1 −0 · Pull request · [View diff]". onViewDiff(button, pane)
// fills the pane; it is called on every click (the caller toggles).
export function gitSummary(data, onViewDiff) {
  const box = el("div", { class: "msg git", "data-execution-id": data.executionId });
  const line = el("p", { class: "git-summary" }, el("span", { class: "git-branch" }, "⎇ ", el("code", {}, data.branch || "?")));
  box.append(line);
  if (!data.headCommit) {
    line.append(el("span", { class: "git-files" }, "nothing changed"));
    return box;
  }
  const files = Number(data.files) || 0;
  line.append(el("span", { class: "git-files" }, `${files} ${files === 1 ? "file" : "files"} changed`),
    el("span", { class: "git-insertions", "aria-label": "insertions" }, `+${Number(data.insertions) || 0}`),
    el("span", { class: "git-deletions", "aria-label": "deletions" }, `−${Number(data.deletions) || 0}`));
  if (data.pullRequestUrl) {
    const href = webUrl(data.pullRequestUrl);
    line.append(href
      ? el("a", { class: "git-pr", href, target: "_blank", rel: "noopener noreferrer" }, "Pull request")
      : el("span", { class: "git-pr" }, `Pull request: ${data.pullRequestUrl}`));
  } else if (!data.pushed) {
    line.append(el("span", { class: "git-files" }, "not pushed"));
  }
  const pane = el("div", { class: "diff", role: "region", "aria-label": `Diff of ${data.executionId}`, hidden: true });
  const button = el("button", { type: "button", class: "small", "aria-expanded": "false",
    onclick: () => onViewDiff(button, pane) }, "View diff");
  line.append(button);
  box.append(pane);
  return box;
}

const HUNK = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/;

// Which part of a unified diff each line is: header, hunk, added, removed or context. A hunk is
// followed for as many lines as its @@ says, so a removed "--- x" is not taken for a file header.
// The same rules as the CLI's (cli/render.py, DiffLines). Feed lines in order, across pages.
export class DiffLines {
  constructor() { this.oldLeft = 0; this.newLeft = 0; }

  kind(line) {
    if (this.oldLeft <= 0 && this.newLeft <= 0) {
      const found = HUNK.exec(line);
      if (!found) return "header";
      this.oldLeft = found[1] === undefined ? 1 : Number(found[1]);
      this.newLeft = found[2] === undefined ? 1 : Number(found[2]);
      return "hunk";
    }
    if (line.startsWith("\\")) return "context"; // "\ No newline at end of file"
    if (line.startsWith("+")) { this.newLeft -= 1; return "added"; }
    if (line.startsWith("-")) { this.oldLeft -= 1; return "removed"; }
    this.oldLeft -= 1;
    this.newLeft -= 1;
    return "context";
  }
}

// One page of a diff (whole lines) as elements, one per line.
export function diffLines(page, lines) {
  return page.replace(/\n$/, "").split("\n").map((line) => el("span", { class: `diff-line ${lines.kind(line)}` }, line));
}

// Nested objects as label/value pairs, for plan and usage replies whatever their shape.
// Plan and usage in words, as the CLI's `usage` prints them: no raw keys, no null or false.
const ENTITLEMENTS = [
  ["projects", "Projects", (v) => v.toLocaleString("en-US")], ["members", "Members", (v) => v.toLocaleString("en-US")],
  ["concurrentExecutions", "Runs at once", String], ["monthlySpendCapUsd", "Spend cap a month", (v) => money2(v)],
  ["maxExecutionTimeoutSeconds", "Longest run", (v) => (v % 3600 ? `${v / 60} min` : `${v / 3600} h`)],
  ["connectionsPerUser", "Connections per person", String], ["eventRetentionDays", "History kept", (v) => `${v} days`],
  ["maxSecretsPerProject", "Secrets per project", String],
];

function money2(value) { return `$${Number(value || 0).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`; }

function dated(value) { return value ? new Date(value).toLocaleDateString() : null; }

function fact(list, term, value) {
  if (value !== null && value !== undefined && value !== "") list.append(el("dt", {}, term), el("dd", {}, String(value)));
}

export function planFacts(list, plan) {
  const effective = plan.effectivePlan || plan.plan;
  fact(list, "Plan", plan.plan && plan.plan !== effective ? `${effective} (subscribed to ${plan.plan})` : effective);
  fact(list, "Status", plan.status);
  fact(list, plan.cancelAtPeriodEnd ? "Ends" : "Renews", dated(plan.periodEnd));
  fact(list, "Trial until", dated(plan.trialEnd));
  if (plan.paymentRequired) fact(list, "Payment required", dated(plan.graceEndsAt) ? `grace until ${dated(plan.graceEndsAt)}` : "now");
  const entitlements = { ...(plan.entitlements || {}) };
  for (const [key, term, form] of ENTITLEMENTS) {
    if (key in entitlements) fact(list, term, form(entitlements[key]));
    delete entitlements[key];
  }
  for (const [key, value] of Object.entries(entitlements)) fact(list, key, value);
  return list;
}

export function usageFacts(list, used) {
  fact(list, "Month", used.month);
  const cap = used.capUsd === null || used.capUsd === undefined ? "" : ` of ${money2(used.capUsd)} (${money2(used.remainingUsd)} left)`;
  fact(list, "Spend", `${money(used.spendUsd)}${cap}`);
  fact(list, "Runs", Number(used.executions || 0).toLocaleString("en-US"));
  fact(list, "Tokens", Number(used.tokens || 0).toLocaleString("en-US"));
  return list;
}
