// The cloutagent web console: sign in, projects, runs streamed live and steered (permission
// requests, questions, follow-ups, interrupts), history, secrets, plan.
// Vanilla JS modules, no build step. The protocol client (reconnect, replay, dedupe) is client.js.

import { Client } from "./client.js";
import { DiffLines, diffLines, el, gitSummary, message, money, planFacts, requestCard, resolveCard, seconds, shown,
  steeringNote, summary, tokens, usageFacts } from "./render.js";

const $ = (id) => document.getElementById(id);
const SESSION_KEY = "cloutagent.session";
const PKCE_KEY = "cloutagent.pkce";
const RECENT_EVENTS = 500; // how much of a project's log to replay when it is opened
const ACTIVE = new Set(["starting", "running", "waiting", "cancelling"]);
const STEERING = new Set(["starting", "running", "waiting"]); // a run that takes answers, follow-ups, interrupts
const STEERS = new Set(["owner", "admin", "member"]); // viewers watch only

const state = {
  client: null, local: null, me: null,
  projects: [], project: null, sub: null,
  run: null, ticker: null, executionsCursor: null,
  requests: new Map(), // the run's permission requests: requestId -> their card
};

// ---- small helpers ------------------------------------------------------------------------------
function show(id, visible) { $(id).hidden = !visible; }

let toastTimer = null;
function toast(error) {
  const text = error && error.code ? `${error.message} (${error.code})` : String(error?.message || error);
  $("toast").textContent = shown(text);
  show("toast", true);
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => show("toast", false), 8000);
}

async function act(fn) {
  try {
    return await fn();
  } catch (error) {
    toast(error);
    return undefined;
  }
}

function request(action, data) { return state.client.request(action, data); }

function canSteer() { return STEERS.has(state.me?.role); }

// What this role may do, as the service says (whoami's allowedActions): a control whose action
// would only answer FORBIDDEN is not shown (data-needs="<action>" in index.html).
function can(action) { return Boolean(state.me?.allowedActions?.includes(action)); }

function applyRoles(root = document) {
  for (const node of root.querySelectorAll("[data-needs]")) node.classList.toggle("forbidden", !can(node.dataset.needs));
}

// ---- configuration and sign-in -------------------------------------------------------------------
async function localConfig() {
  // Only the local stack serves this (with its dev key); anywhere else it is simply missing.
  try {
    const reply = await fetch("/local/console.json", { cache: "no-store" });
    return reply.ok ? await reply.json() : null;
  } catch {
    return null;
  }
}

function configuredWsUrl() {
  return new URLSearchParams(location.search).get("wsUrl") || window.CLOUTAGENT_CONFIG?.wsUrl
    || (state.local && state.local.wsUrl) || `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}`;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() { return `${location.origin}${location.pathname}`; }

// Cognito hosted UI, authorization code with PKCE (a public client: no secret in the page) and a
// `state` that must come back unchanged (a sign-in this page did not start is refused).
async function startCognito(event) {
  event.preventDefault();
  const { domain, clientId } = window.CLOUTAGENT_CONFIG.cognito;
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state: nonce }));
  const query = new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: redirectUri(),
    scope: "openid email", code_challenge_method: "S256", code_challenge: challenge, state: nonce });
  location.assign(`${domain}/oauth2/authorize?${query}`);
}

async function cognitoTokens(body) {
  const { domain, clientId } = window.CLOUTAGENT_CONFIG.cognito;
  const reply = await fetch(`${domain}/oauth2/token`, {
    method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: clientId, ...body }),
  });
  if (!reply.ok) throw new Error("Cognito did not accept the sign-in; sign in again");
  const tokens = await reply.json();
  return { token: tokens.access_token, refreshToken: tokens.refresh_token || body.refresh_token || null,
    expiresAt: Date.now() + (Number(tokens.expires_in) || 3600) * 1000 };
}

async function cognitoCallback() {
  const params = new URLSearchParams(location.search);
  const code = params.get("code");
  const cognito = window.CLOUTAGENT_CONFIG?.cognito;
  if (!code || !cognito) return null;
  const started = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  history.replaceState(null, "", redirectUri());
  if (!started || !started.state || params.get("state") !== started.state) {
    throw new Error("This sign-in was not started from this page (its state does not match); sign in again");
  }
  const tokens = await cognitoTokens({ grant_type: "authorization_code", code, redirect_uri: redirectUri(),
    code_verifier: started.verifier });
  return { wsUrl: configuredWsUrl(), credentials: { token: tokens.token }, cognito: tokens };
}

// Cognito access tokens last an hour, and a token is checked only when a connection opens: so a
// fresh one is fetched with the refresh token a couple of minutes before expiry, and every later
// (re)connection uses it. Without a refresh token the session ends when the token does.
const REFRESH_MARGIN_MS = 120_000;
let refreshTimer = null;

function scheduleRefresh(session) {
  clearTimeout(refreshTimer);
  if (!session.cognito?.refreshToken) return;
  const wait = Math.max(0, session.cognito.expiresAt - Date.now() - REFRESH_MARGIN_MS);
  refreshTimer = setTimeout(() => refresh(session).catch((error) => toast(error)), wait);
}

async function refresh(session) {
  const tokens = await cognitoTokens({ grant_type: "refresh_token", refresh_token: session.cognito.refreshToken });
  session.cognito = tokens;
  session.credentials = { token: tokens.token };
  if (state.client) state.client.credentials = session.credentials; // the next (re)connection's
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  scheduleRefresh(session);
}

function showSignIn(error) {
  show("workspace", false);
  show("sign-in", true);
  show("sign-out", false);
  show("identity", false);
  show("local-sign-in", Boolean(state.local));
  show("cognito-sign-in", Boolean(window.CLOUTAGENT_CONFIG?.cognito));
  $("ws-url").value = configuredWsUrl();
  $("sign-in-error").textContent = error ? `${error.message}${error.code ? ` (${error.code})` : ""}` : "";
  (state.local ? $("sign-in-local") : $("ws-url")).focus();
}

async function signIn(session) {
  const local = session.local && state.local;
  if (session.local && !local) throw new Error("The local stack is not serving this page any more");
  if (session.cognito?.refreshToken && session.cognito.expiresAt - Date.now() < REFRESH_MARGIN_MS) {
    await refresh(session); // a page reloaded after its token expired signs in with a fresh one
  }
  const wsUrl = local ? state.local.wsUrl : session.wsUrl;
  const credentials = local ? { apiKey: state.local.apiKey } : session.credentials;
  const client = new Client(wsUrl, credentials);
  client.addEventListener("state", onConnectionState);
  await client.connect();
  state.client = client;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  scheduleRefresh(session);
  state.me = await request("whoami");
  const standing = state.me.tenantId === "" ? "no team yet" : state.me.role;
  $("identity").textContent = shown(`${state.me.displayName || state.me.userId} · ${standing}`);
  $("identity").title = state.me.userId;
  applyRoles();
  $("connection").dataset.connectionId = state.me.connectionId;
  show("sign-in", false);
  show("workspace", true);
  show("identity", true);
  show("sign-out", true);
  if (state.me.tenantId === "") { // an invitee: a person in no team yet may only answer invitations
    showView("invitations");
    await loadMyInvitations();
    return;
  }
  await loadProjects();
  $("new-project-name").focus();
}

function signOut() {
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(SESSION_KEY);
  leaveProject();
  state.client?.close();
  state.client = null;
  showSignIn();
}

async function onConnectionState(event) {
  const { state: now, attempt } = event.detail;
  const pill = $("connection");
  pill.dataset.state = now;
  pill.textContent = { open: "Connected", connecting: "Connecting…", closed: "Signed out",
    reconnecting: `Reconnecting… (attempt ${attempt})` }[now] || now;
  if (now === "open" && state.me) {
    const me = await act(() => request("whoami"));
    if (me) pill.dataset.connectionId = me.connectionId;
  }
}

// ---- projects -----------------------------------------------------------------------------------
async function loadProjects(selectId) {
  state.projects = (await request("project.list")).projects;
  renderProjectList();
  if (selectId) await selectProject(selectId);
}

// Two projects may share a name: then each also shows its path (unique in the tenant), so they
// never look identical.
function sharedNames() {
  const seen = new Map();
  for (const p of state.projects) seen.set(p.name, (seen.get(p.name) || 0) + 1);
  return new Set([...seen].filter(([, count]) => count > 1).map(([name]) => name));
}

function renderProjectList() {
  const list = $("project-list");
  const shared = sharedNames();
  list.replaceChildren(...state.projects.map((p) => el("li", {},
    el("button", { type: "button", class: "project-link", "aria-current": p.projectId === state.project?.projectId ? "page" : null,
      "data-project-id": p.projectId, onclick: () => act(() => selectProject(p.projectId)) },
      el("span", { class: "name" }, p.name), shared.has(p.name) ? el("span", { class: "hint path" }, ` ${p.path}/`) : null,
      el("span", { class: `badge state-${p.state}` }, p.state)))));
  if (!state.projects.length) list.append(el("li", { class: "hint" }, "No projects yet."));
}

async function createProject(event) {
  event.preventDefault();
  const input = $("new-project-name");
  const reply = await act(() => request("project.create", { name: input.value.trim() }));
  if (!reply) return;
  input.value = "";
  await act(() => loadProjects(reply.project.projectId));
  $("prompt").focus();
}

async function deleteProject() {
  const project = state.project;
  if (!project || !confirm(`Delete the project "${shown(project.name)}" and its history?`)) return;
  if (await act(() => request("project.delete", { projectId: project.projectId })) === undefined) return;
  leaveProject();
  showView("empty");
  await act(() => loadProjects());
}

function leaveProject() {
  state.sub?.close();
  state.sub = null;
  state.project = null;
  stopTicker();
  state.run = null;
  state.requests.clear();
}

async function selectProject(projectId) {
  leaveProject();
  state.project = state.projects.find((p) => p.projectId === projectId);
  if (!state.project) return;
  renderProjectList();
  renderProjectHead();
  showView("project");
  selectTab("tab-run");
  $("output").replaceChildren();
  $("run-status").textContent = "";
  $("run-status").dataset.status = "";
  const sinceSeq = Math.max(0, (state.project.lastSeq || 0) - RECENT_EVENTS);
  state.sub = await state.client.subscribe(projectId, { sinceSeq, onEvent: (e) => onProjectEvent(projectId, e) });
}

function renderProjectHead() {
  const p = state.project;
  $("project-title").textContent = shown(p.name);
  $("project-state").textContent = p.state;
  $("project-state").className = `badge state-${p.state}`;
  $("kill").disabled = !ACTIVE.has(p.state);
  $("run").disabled = ACTIVE.has(p.state);
  const steerable = STEERING.has(p.state) && canSteer();
  $("interrupt").disabled = !steerable;
  show("steer-form", STEERING.has(p.state));
  $("follow-up").disabled = !steerable;
  $("send").disabled = !steerable;
}

function setProjectState(projectState) {
  state.project.state = projectState;
  const listed = state.projects.find((p) => p.projectId === state.project.projectId);
  if (listed) listed.state = projectState;
  renderProjectHead();
  renderProjectList();
}

// ---- the live run view --------------------------------------------------------------------------
function onProjectEvent(projectId, event) {
  if (state.project?.projectId !== projectId) return;
  const data = event.data || {};
  switch (event.event) {
    case "project.state":
      setProjectState(data.state);
      if (data.state === "starting") beginRun(data.executionId, event.ts);
      if (state.run && data.executionId === state.run.executionId) state.run.state = data.state;
      if (data.state === "idle") stopTicker();
      break;
    case "execution.started":
      beginRun(data.executionId, event.ts);
      if (data.executionId === state.run?.executionId) appendTo($("output"), el("div", { class: "msg prompt" }, `› ${data.promptPreview}`));
      break;
    case "execution.message":
      if (data.executionId !== state.run?.executionId) break;
      if (data.kind === "result") Object.assign(state.run, { tokens: tokens(data.usage), cost: data.costUsd });
      appendTo($("output"), message(data));
      break;
    case "execution.usage":
      // Tokens and cost so far, at most once a second while the run goes on.
      if (data.executionId === state.run?.executionId) Object.assign(state.run, { tokens: tokens(data.usage), cost: data.costUsd });
      break;
    case "execution.git":
      if (data.executionId === state.run?.executionId) appendTo($("output"), gitBlock(data));
      break;
    case "permission.request":
      if (data.executionId === state.run?.executionId) showRequest(data);
      break;
    case "permission.resolved": {
      const card = state.requests.get(data.requestId);
      if (card) resolveCard(card, data, state.me?.userId);
      break;
    }
    case "execution.input":
    case "execution.interrupt":
      if (data.executionId === state.run?.executionId) appendTo($("output"), steeringNote(event.event, data, state.me?.userId));
      break;
    case "execution.finished":
      if (data.executionId === state.run?.executionId) finishRun(data, event.ts);
      break;
    case "project.updated":
      if (data.project) Object.assign(state.project, { name: data.project.name, description: data.project.description });
      renderProjectHead();
      break;
    default:
      break;
  }
}

function appendTo(log, node) {
  if (!node) return;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  log.append(node);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

function beginRun(executionId, ts) {
  if (!executionId || state.run?.executionId === executionId) return;
  state.run = { executionId, startedAt: Date.parse(ts) || Date.now(), state: "starting", tokens: null, cost: null, finished: null };
  state.requests.clear();
  $("output").replaceChildren();
  $("output").dataset.executionId = executionId;
  startTicker();
}

function finishRun(finished, ts) {
  state.run.finished = finished;
  stopTicker();
  const status = $("run-status");
  status.dataset.status = finished.status;
  // From the run's start to its end on the service's clock: what the live timer counted up to.
  status.textContent = summary(finished, (Date.parse(ts) || Date.now()) - state.run.startedAt);
}

function startTicker() {
  stopTicker();
  const tick = () => {
    const run = state.run;
    if (!run || run.finished) return;
    const status = $("run-status");
    status.dataset.status = run.state;
    const used = run.tokens === null ? "— tokens" : `${run.tokens.toLocaleString("en-US")} tokens`;
    const now = run.state === "waiting" ? "waiting for an answer" : run.state;
    status.textContent = `${now} · ${seconds(Date.now() - run.startedAt)} · ${used} · ${money(run.cost)}`;
  };
  tick();
  state.ticker = setInterval(tick, 250);
}

function stopTicker() {
  clearInterval(state.ticker);
  state.ticker = null;
}

// ---- steering the run: requests and questions, follow-ups, interrupts ------------------------------
function showRequest(data) {
  if (state.requests.has(data.requestId)) return;
  const steer = canSteer();
  const card = requestCard(data, {
    onAnswer: steer ? (reply) => act(() => answerRequest(card, data.requestId, reply)) : null,
    note: steer ? null : "Members, admins and owners answer; viewers watch.",
  });
  state.requests.set(data.requestId, card);
  appendTo($("output"), card);
}

// The first answer from anyone wins; a later one is a CONFLICT that says who answered.
async function answerRequest(card, requestId, reply) {
  const controls = [...card.querySelectorAll("button, input")];
  const outcome = card.querySelector(".request-outcome");
  controls.forEach((control) => { control.disabled = true; });
  outcome.textContent = "Sending…";
  try {
    await request("permission.respond", { projectId: state.project.projectId, requestId, ...reply });
    if (!card.classList.contains("resolved")) outcome.textContent = "Sent.";
  } catch (error) {
    if (error.code === "CONFLICT" && error.details?.by) {
      const by = error.details.by === state.me?.userId ? "you" : error.details.by;
      outcome.textContent = shown(`Already answered: ${error.details.decision} by ${by}.`);
      return;
    }
    controls.forEach((control) => { control.disabled = false; });
    outcome.textContent = "";
    throw error;
  }
}

async function sendFollowUp(event) {
  event.preventDefault();
  const text = $("follow-up").value.trim();
  if (!text || !state.project) return;
  const reply = await act(() => request("agent.send", { projectId: state.project.projectId, text }));
  if (reply) $("follow-up").value = "";
}

async function interrupt() {
  if (!state.project) return;
  await act(() => request("agent.interrupt", { projectId: state.project.projectId }));
}

// ---- what a run delivered to the repository -------------------------------------------------------
function gitBlock(data) {
  const projectId = state.project.projectId;
  return gitSummary(data, (button, pane) => act(() => toggleDiff(projectId, data.executionId, button, pane)));
}

// The first click fetches every page of the diff; later ones show or hide it.
async function toggleDiff(projectId, executionId, button, pane) {
  try {
    if (pane.dataset.loaded) {
      pane.hidden = !pane.hidden;
      return;
    }
    button.disabled = true;
    button.textContent = "Loading diff…";
    const lines = new DiffLines();
    const shown = document.createDocumentFragment(); // no spreading: a diff can have many thousand lines
    for await (const page of state.client.diff(projectId, executionId)) {
      for (const line of diffLines(page, lines)) shown.append(line);
    }
    pane.replaceChildren(shown.childNodes.length ? shown : el("span", { class: "hint" }, "No changes."));
    pane.dataset.loaded = "true";
    pane.hidden = false;
  } finally {
    button.disabled = false;
    button.textContent = pane.hidden ? "View diff" : "Hide diff";
    button.setAttribute("aria-expanded", String(!pane.hidden));
  }
}

async function runPrompt(event) {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!state.project) return;
  if (!prompt) { // `required` lets blanks through: say why nothing happens
    toast("The prompt is empty: write what the agent should do.");
    $("prompt").focus();
    return;
  }
  const data = { projectId: state.project.projectId, prompt };
  const maxCost = parseFloat($("max-cost").value);
  if (maxCost > 0) data.options = { maxCostUsd: maxCost };
  const reply = await act(() => request("execute", data));
  if (!reply) return;
  beginRun(reply.execution.executionId, reply.execution.createdAt || new Date().toISOString());
  $("prompt").value = "";
}

async function kill() {
  if (!state.project) return;
  const reply = await act(() => request("agent.kill", { projectId: state.project.projectId }));
  if (reply) $("run-status").textContent = "cancelling…";
}

async function newSession() {
  if (!state.project) return;
  const reply = await act(() => request("agent.new_session", { projectId: state.project.projectId }));
  if (reply) toast("The next run starts a fresh Claude session.");
}

// ---- history -------------------------------------------------------------------------------------
async function loadExecutions(reset) {
  if (reset) {
    $("executions").replaceChildren();
    state.executionsCursor = null;
    show("transcript-section", false);
  }
  const data = { projectId: state.project.projectId, limit: 20 };
  if (state.executionsCursor) data.cursor = state.executionsCursor;
  const page = await request("execution.list", data);
  state.executionsCursor = page.nextCursor;
  show("more-executions", Boolean(page.nextCursor));
  $("executions").append(...page.executions.map((x) => el("tr", { "data-execution-id": x.executionId },
    el("td", {}, new Date(x.createdAt).toLocaleString()),
    el("td", {}, el("span", { class: `badge status-${x.status}` }, x.status),
      x.errorCode ? el("code", { class: "error-code" }, x.errorCode) : null),
    el("td", {}, x.durationMs === null || x.durationMs === undefined ? "—" : seconds(x.durationMs)),
    el("td", {}, tokens(x.usage).toLocaleString("en-US")),
    el("td", {}, money(x.costUsd)),
    el("td", { class: "prompt" }, x.promptPreview),
    el("td", {}, el("button", { type: "button", onclick: () => act(() => showTranscript(x.executionId)) }, "View")))));
  if (!$("executions").children.length) $("executions").append(el("tr", {}, el("td", { colspan: 7, class: "hint" }, "No runs yet.")));
}

async function showTranscript(executionId) {
  const log = $("transcript");
  log.replaceChildren();
  show("transcript-section", true);
  $("transcript-title").textContent = `Transcript of ${executionId}`;
  const filters = { events: ["execution.message", "execution.git", "execution.finished", "permission.request",
    "permission.resolved", "execution.input", "execution.interrupt"] };
  const cards = new Map();
  for await (const event of state.client.history(state.project.projectId, 0, filters)) {
    if (event.data?.executionId !== executionId) continue;
    if (event.event === "execution.finished") log.append(el("p", { class: "msg meta" }, summary(event.data)));
    else if (event.event === "execution.git") appendTo(log, gitBlock(event.data));
    else if (event.event === "permission.request") {
      cards.set(event.data.requestId, requestCard(event.data));
      appendTo(log, cards.get(event.data.requestId));
    } else if (event.event === "permission.resolved") {
      if (cards.has(event.data.requestId)) resolveCard(cards.get(event.data.requestId), event.data, state.me?.userId);
    } else if (event.event === "execution.message") appendTo(log, message(event.data));
    else appendTo(log, steeringNote(event.event, event.data, state.me?.userId));
  }
  log.focus();
}

// ---- secrets --------------------------------------------------------------------------------------
function unavailable(error, note, what) {
  if (error.code !== "UNKNOWN_ACTION") return false;
  $(note).textContent = `${what} are not available on this server yet.`;
  return true;
}

async function loadSecrets() {
  $("secrets-note").textContent = "";
  try {
    const reply = await request("secret.list", { projectId: state.project.projectId });
    const secrets = (reply.secrets || []).map((s) => (typeof s === "string" ? { name: s } : s));
    $("secret-list").replaceChildren(...secrets.map((s) => el("li", {}, el("code", {}, s.name),
      s.updatedAt ? el("span", { class: "hint" }, ` updated ${new Date(s.updatedAt).toLocaleString()}`) : null,
      can("secret.delete") ? el("button", { type: "button", class: "danger small", "aria-label": `Delete secret ${s.name}`,
        onclick: () => act(() => deleteSecret(s.name)) }, "Delete") : null)));
    if (!secrets.length) $("secret-list").append(el("li", { class: "hint" }, "No secrets."));
  } catch (error) {
    if (!unavailable(error, "secrets-note", "Secrets")) toast(error);
  }
}

async function saveSecret(event) {
  event.preventDefault();
  const name = $("secret-name").value.trim();
  const value = $("secret-value").value;
  if (await act(() => request("secret.set", { projectId: state.project.projectId, name, value })) === undefined) return;
  $("secret-name").value = "";
  $("secret-value").value = "";
  $("secrets-note").textContent = `Saved ${name}.`;
  await loadSecrets();
}

async function deleteSecret(name) {
  if (!confirm(`Delete the secret ${name}?`)) return;
  await request("secret.delete", { projectId: state.project.projectId, name });
  await loadSecrets();
}

// ---- members and API keys ---------------------------------------------------------------------------
const ROLES = ["owner", "admin", "member", "viewer"];
const RANK = { viewer: 0, member: 1, admin: 2, owner: 3 };

function day(value) { return value ? new Date(value).toLocaleDateString() : "—"; }
function when(value) { return value ? new Date(value).toLocaleString() : "—"; }

// ---- the audit log (admins) -------------------------------------------------------------------------
let auditCursor = null;

async function showAudit() {
  leaveProject();
  renderProjectList();
  showView("audit");
  $("audit-entries").replaceChildren();
  auditCursor = null;
  await loadAudit();
}

function auditDetails(details) {
  // Names, roles and ids only (the service never records a value); el() shows any control character escaped.
  return Object.entries(details || {}).filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
}

async function loadAudit() {
  const page = await request("audit.list", { limit: 50, ...(auditCursor ? { cursor: auditCursor } : {}) });
  $("audit-entries").append(...page.entries.map((entry) => el("tr", {},
    el("td", {}, when(entry.at)), el("td", {}, el("code", {}, entry.action)),
    el("td", {}, entry.actor.displayName || entry.actor.userId), el("td", {}, entry.target),
    el("td", {}, auditDetails(entry.details)))));
  auditCursor = page.nextCursor;
  show("audit-more", Boolean(auditCursor));
}

async function showTeam() {
  leaveProject();
  renderProjectList();
  showView("team");
  $("team-note").textContent = "";
  show("new-key", false);
  await loadMembers();
  if (can("invitation.list")) await loadSentInvitations();
  if (can("apikey.list")) await loadKeys();
}

function roleCell(member) {
  // Nobody hands out a role above their own, nor changes their own.
  if (!can("member.set_role") || member.userId === state.me.userId || RANK[member.role] > RANK[state.me.role]) {
    return member.role;
  }
  const select = el("select", { "aria-label": `Role of ${member.email || member.userId}`,
    onchange: () => act(async () => {
      await request("member.set_role", { userId: member.userId, role: select.value });
      $("team-note").textContent = `${member.email || member.userId} is now ${select.value}.`;
    }).then(loadMembers) },
  ...ROLES.filter((role) => RANK[role] <= RANK[state.me.role]).map((role) => el("option", { value: role }, role)));
  select.value = member.role;
  return select;
}

async function loadMembers() {
  const { members } = await request("member.list");
  $("members").replaceChildren(...members.map((member) => el("tr", {},
    el("td", {}, member.email || member.userId), el("td", {}, roleCell(member)), el("td", {}, day(member.joinedAt)),
    el("td", {}, can("member.remove") && member.userId !== state.me.userId && RANK[member.role] <= RANK[state.me.role]
      ? el("button", { type: "button", class: "danger small", "aria-label": `Remove ${member.email || member.userId}`,
        onclick: () => confirm(`Remove ${shown(member.email || member.userId)} from the team?`)
          && act(() => request("member.remove", { userId: member.userId })).then(loadMembers) }, "Remove")
      : null))));
}

async function loadKeys() {
  const { apiKeys } = await request("apikey.list");
  $("keys").replaceChildren(...apiKeys.map((key) => el("tr", {},
    el("td", {}, key.name), el("td", {}, key.role), el("td", {}, el("code", {}, `${key.prefix}…`)),
    el("td", {}, day(key.createdAt)), el("td", {}, key.expiresAt ? day(key.expiresAt) : "never"),
    el("td", {}, key.lastUsedAt ? when(key.lastUsedAt) : "—"), el("td", {}, key.revokedAt ? day(key.revokedAt) : "—"),
    el("td", {}, !key.revokedAt && can("apikey.revoke")
      ? el("button", { type: "button", class: "danger small", "aria-label": `Revoke ${key.name}`,
        onclick: () => confirm(`Revoke the key ${shown(key.name)}? Connections with it are refused from now on.`)
          && act(() => request("apikey.revoke", { keyId: key.keyId })).then(loadKeys) }, "Revoke")
      : null))));
}

async function invite(event) {
  event.preventDefault();
  const email = $("invite-email").value.trim();
  const reply = await act(() => request("member.invite", { email, role: $("invite-role").value }));
  if (!reply) return;
  $("invite-email").value = "";
  $("team-note").textContent = shown(`Invited ${reply.invitation.email} as ${reply.invitation.role}: they join once they sign in and accept.`);
  await loadSentInvitations();
}

async function loadSentInvitations() {
  const { invitations } = await request("invitation.list");
  $("sent-invitations").replaceChildren(...invitations.map((inv) => el("tr", {},
    el("td", {}, inv.email), el("td", {}, inv.role), el("td", {}, inv.status), el("td", {}, day(inv.expiresAt)),
    el("td", {}, inv.status === "pending" && can("invitation.revoke") && RANK[inv.role] <= RANK[state.me.role]
      ? el("button", { type: "button", class: "danger small", "aria-label": `Revoke the invitation of ${inv.email}`,
        onclick: () => confirm(`Withdraw the invitation of ${shown(inv.email)}?`)
          && act(() => request("invitation.revoke", { invitationId: inv.invitationId })).then(loadSentInvitations) },
      "Revoke")
      : null))));
}

// ---- a person in no team yet: the invitations addressed to them ---------------------------------
async function startOwnTeam() {
  const reply = await act(() => request("tenant.create"));
  if (reply) location.reload(); // reconnect as the new team's owner
}

async function loadMyInvitations() {
  const { invitations } = await request("invitation.mine");
  const answer = (inv, action) => act(async () => {
    await request(action, { invitationId: inv.invitationId });
    if (action === "invitation.accept") {
      // The connection keeps the identity it opened with: reconnect as the team's new member.
      $("invitations-note").textContent = shown(`Joined ${inv.tenantName} as ${inv.role}.`);
      location.reload();
      return;
    }
    $("invitations-note").textContent = shown(`Declined the invitation of ${inv.tenantName}.`);
    await loadMyInvitations();
  });
  $("my-invitations").replaceChildren(...invitations.map((inv) => el("tr", {},
    el("td", {}, inv.tenantName), el("td", {}, inv.role), el("td", {}, inv.invitedBy), el("td", {}, day(inv.expiresAt)),
    el("td", {},
      el("button", { type: "button", class: "primary small", "aria-label": `Accept ${inv.tenantName}`,
        onclick: () => answer(inv, "invitation.accept") }, "Accept"),
      el("button", { type: "button", class: "small", "aria-label": `Decline ${inv.tenantName}`,
        onclick: () => answer(inv, "invitation.decline") }, "Decline")))));
  if (!invitations.length) {
    $("my-invitations").append(el("tr", {}, el("td", { colspan: "5", class: "hint" }, "No invitations for you.")));
  }
}

async function createKey(event) {
  event.preventDefault();
  const days = $("key-expires").value ? Number($("key-expires").value) : null;
  const reply = await act(() => request("apikey.create", { name: $("key-name").value.trim(), role: $("key-role").value,
    ...(days ? { expiresInDays: days } : {}) }));
  if (!reply) return;
  $("key-name").value = "";
  $("key-expires").value = "";
  $("new-key-value").textContent = reply.key; // shown this once: the service keeps only its hash
  show("new-key", true);
  await loadKeys();
}

// ---- plan, usage and billing ------------------------------------------------------------------------
async function showAccount() {
  leaveProject();
  renderProjectList();
  showView("account");
  $("account-note").textContent = "";
  for (const [action, list] of [["plan.get", "plan"], ["usage.get", "usage"]]) {
    $(list).replaceChildren();
    try {
      const reply = await request(action);
      if (action === "plan.get") {
        planFacts($(list), reply);
        offerUpgrades(reply);
      } else {
        usageFacts($(list), reply);
      }
    } catch (error) {
      if (!unavailable(error, "account-note", "Plans and usage")) $(list).append(el("dd", { class: "error" }, error.message));
    }
  }
}

// Checkout offers only plans above the one the tenant has: an enterprise tenant is not asked to
// "subscribe" to pro. A lower plan, or cancelling, is the billing portal's business.
const PLAN_ORDER = ["free", "pro", "team", "enterprise"];

function offerUpgrades(plan) {
  const current = PLAN_ORDER.indexOf(plan.effectivePlan || plan.plan);
  let offered = 0;
  for (const option of $("checkout-plan").options) {
    const higher = PLAN_ORDER.indexOf(option.value) > current;
    option.hidden = option.disabled = !higher;
    offered += higher ? 1 : 0;
  }
  const first = [...$("checkout-plan").options].find((option) => !option.disabled);
  if (first) $("checkout-plan").value = first.value;
  show("checkout", offered > 0);
  show("checkout-plan", offered > 0);
  $("checkout-form").querySelector("label[for=checkout-plan]").hidden = offered === 0;
}

// Stripe's pages send the browser back here.
async function billing(action, data) {
  const reply = await act(() => request(action, data));
  if (reply?.url) location.assign(reply.url);
}

// ---- views and tabs -----------------------------------------------------------------------------------
function showView(name) {
  for (const view of ["empty", "project", "account", "team", "audit", "invitations"]) show(view, view === name);
}

const TABS = { "tab-run": null, "tab-history": () => loadExecutions(true), "tab-secrets": loadSecrets };

function selectTab(id) {
  for (const tab of Object.keys(TABS)) {
    const selected = tab === id;
    $(tab).setAttribute("aria-selected", String(selected));
    $(tab).tabIndex = selected ? 0 : -1;
    show($(tab).getAttribute("aria-controls"), selected);
  }
  if (TABS[id]) act(TABS[id]);
}

function tabKeys(event) {
  const ids = Object.keys(TABS);
  const index = ids.indexOf(event.target.id);
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (index < 0 || !step) return;
  const next = ids[(index + step + ids.length) % ids.length];
  selectTab(next);
  $(next).focus();
}

// ---- wiring ------------------------------------------------------------------------------------------
function wire() {
  $("sign-in-local").addEventListener("click", () => act(() => signIn({ local: true }).catch(showSignIn)));
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const kind = new FormData(event.target).get("kind");
    const value = $("credential").value.trim();
    const credentials = kind === "token" ? { token: value } : { apiKey: value };
    signIn({ wsUrl: $("ws-url").value.trim(), credentials }).catch(showSignIn);
  });
  $("sign-in-cognito").addEventListener("click", startCognito);
  $("sign-out").addEventListener("click", signOut);
  $("create-project").addEventListener("submit", createProject);
  $("delete-project").addEventListener("click", deleteProject);
  $("new-session").addEventListener("click", newSession);
  $("run-form").addEventListener("submit", runPrompt);
  $("prompt").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.metaKey || event.ctrlKey)) $("run-form").requestSubmit();
  });
  $("kill").addEventListener("click", kill);
  $("interrupt").addEventListener("click", interrupt);
  $("steer-form").addEventListener("submit", sendFollowUp);
  $("more-executions").addEventListener("click", () => act(() => loadExecutions(false)));
  $("secret-form").addEventListener("submit", saveSecret);
  $("show-account").addEventListener("click", () => act(showAccount));
  $("show-team").addEventListener("click", () => act(showTeam));
  $("show-audit").addEventListener("click", () => act(showAudit));
  $("audit-more").addEventListener("click", () => act(loadAudit));
  $("invite-form").addEventListener("submit", invite);
  $("start-own").addEventListener("click", startOwnTeam);
  $("key-form").addEventListener("submit", createKey);
  $("checkout-form").addEventListener("submit", (event) => {
    event.preventDefault();
    billing("billing.checkout", { plan: $("checkout-plan").value, successUrl: location.href, cancelUrl: location.href });
  });
  $("portal").addEventListener("click", () => billing("billing.portal", { returnUrl: location.href }));
  for (const id of Object.keys(TABS)) {
    $(id).addEventListener("click", () => selectTab(id));
    $(id).addEventListener("keydown", tabKeys);
  }
}

async function boot() {
  wire();
  state.local = await localConfig();
  let session = null;
  try {
    session = (await cognitoCallback()) || JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch (error) {
    showSignIn(error);
    return;
  }
  if (!session) {
    showSignIn();
    return;
  }
  try {
    await signIn(session);
  } catch (error) {
    sessionStorage.removeItem(SESSION_KEY);
    showSignIn(error);
  }
}

boot();
