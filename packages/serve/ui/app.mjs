// The page of `chorus serve`: it reads and writes through the REST API (/v1) with the token the
// operator gives, and loads nothing from anywhere else. Text from the log goes in as text only.

const TOKEN_KEY = 'chorus-token';
const ROLE_RANK = { viewer: 1, operator: 2, admin: 3 };

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  role: '',
  zone: '',
  zoneStatus: null,
  outcomes: '',
  signers: [],
  timelines: new Map(),
};

const $ = (id) => document.getElementById(id);

/** An element with text and attributes; children appended in order. */
function element(tag, text, attributes = {}, children = []) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? '';
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: {
      authorization: `Bearer ${state.token}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  if (response.ok)
    return response.headers.get('content-type')?.includes('json')
      ? response.json()
      : response.text();
  throw new ApiError(response.status, await response.json().catch(() => undefined));
}

function say(text, isError = false) {
  const message = $('message');
  message.textContent = text;
  message.className = isError ? 'error' : '';
}

/** `252` → `4 min 12 s`; `3725` → `1 h 2 min` (as the CLI's status line says it). */
function durationInWords(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "waiting for the parent's DS TTL: 4 min 12 s left", or the process's own description. */
function waitText(process) {
  if (!process.wait) return process.description ?? process.status;
  const left = (Date.parse(process.wait.notBefore) - Date.now()) / 1000;
  return `waiting for ${process.wait.waitsFor}: ${durationInWords(left)} left`;
}

const stepText = (process) =>
  `step ${Math.min(process.currentStep + 1, process.steps.length)}/${process.steps.length} ${process.steps[process.currentStep] ?? 'finishing'}`;

const mayOperate = () => (ROLE_RANK[state.role] ?? 0) >= ROLE_RANK.operator;

// Sign in and out.

async function signIn(token) {
  state.token = token;
  const who = await api('/v1/whoami');
  state.role = who.role;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('who').textContent = `${who.name} (${who.role})`;
  $('login').hidden = true;
  $('app').hidden = false;
  $('controls').hidden = !mayOperate();
  await refreshZones();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  Object.assign(state, { token: '', role: '', zone: '', zoneStatus: null });
  $('who').textContent = '';
  $('login').hidden = false;
  $('app').hidden = true;
  $('zone').hidden = true;
}

// Zones and groups.

async function refreshZones() {
  const [{ zones }, { groups }] = await Promise.all([api('/v1/zones'), api('/v1/groups')]);
  const list = $('zones');
  list.replaceChildren(
    ...zones.map((zone) => {
      const button = element('button', zone.zone, { type: 'button', 'data-zone': zone.zone });
      button.addEventListener('click', () => void selectZone(zone.zone));
      const members = zone.members.length > 0 ? zone.members.join(', ') : 'no signer yet';
      return element('li', null, {}, [button, element('span', ` ${members}`)]);
    }),
  );
  $('groups').replaceChildren(
    ...groups.map((group) => element('li', `${group.name}: ${(group.zones ?? []).length} zone(s)`)),
  );
  if (!state.zone && zones.length > 0) await selectZone(zones[0].zone);
}

async function selectZone(zone) {
  state.zone = zone;
  state.timelines.clear();
  $('zone').hidden = false;
  $('zone-name').textContent = zone;
  say('');
  await Promise.all([refreshZone(), refreshStats()]);
}

// One zone: signers, processes in flight, history.

async function refreshZone() {
  if (!state.zone) return;
  const zone = encodeURIComponent(state.zone);
  const [status, { signers }] = await Promise.all([
    api(`/v1/zones/${zone}`),
    api(`/v1/zones/${zone}/signers`),
  ]);
  const outcomes = status.processes.map((process) => process.status).join();
  const changed = state.zoneStatus !== null && state.outcomes !== outcomes;
  state.outcomes = outcomes;
  state.zoneStatus = status;
  state.signers = signers;
  if (changed) void refreshStats().catch(() => undefined);
  $('zone-summary').textContent =
    `members: ${status.members.join(', ') || 'none'}${status.defined ? '' : ' (not defined yet)'}` +
    (status.verified ? '' : ' · events not verified (no trust file)');
  renderSigners(signers);
  renderSignerChoice(signers);
  renderInFlight(status);
  renderProcesses(status);
}

function renderSigners(signers) {
  $('signers')
    .querySelector('tbody')
    .replaceChildren(
      ...signers.map((signer) =>
        element('tr', null, { 'data-signer': signer.id }, [
          element('td', signer.id),
          element('td', signer.kind),
          element('td', signer.member ? 'yes' : 'no'),
          element('td', signer.nameServerNames.join(' ')),
          element(
            'td',
            signer.keys
              .map(
                (key) =>
                  `${key.keyTag} ${key.role} alg ${key.algorithm}${key.state ? ` (${key.state})` : ''}`,
              )
              .join(', ') || 'none seen yet',
          ),
        ]),
      ),
    );
}

function renderSignerChoice(signers) {
  const select = $('signer');
  const chosen = select.value;
  select.replaceChildren(
    ...signers.map((signer) => element('option', signer.id, { value: signer.id })),
  );
  if (signers.some((signer) => signer.id === chosen)) select.value = chosen;
}

function renderInFlight(status) {
  const inFlight = status.activeProcesses ?? [];
  const pending = (status.pendingRequests ?? []).map((request) =>
    element(
      'li',
      `${request.kind} ${request.signerId}: requested, waiting for the sidecars' pre-flight checks`,
    ),
  );
  $('in-flight').replaceChildren(
    ...inFlight.map((process) => {
      const countdown = element('span', waitText(process), { class: 'countdown' });
      countdown.dataset.process = process.id;
      const item = element(
        'li',
        null,
        { 'data-process': process.id, 'data-status': process.status },
        [
          element('strong', `${process.kind} ${process.signerId}`),
          element('span', ` ${process.status}, ${stepText(process)}: `),
          countdown,
        ],
      );
      if (mayOperate()) {
        const stop = element('button', 'Stop', { type: 'button', class: 'stop' });
        stop.addEventListener('click', () => void stopProcess(process));
        item.append(' ', stop);
      }
      return item;
    }),
    ...pending,
  );
  if (inFlight.length === 0 && pending.length === 0)
    $('in-flight').replaceChildren(element('li', 'nothing in flight'));
}

function renderProcesses(status) {
  const list = $('processes');
  const items = [...status.processes].reverse().map((process) => {
    const error = process.error ? `: ${process.error.message}` : '';
    const item = element(
      'li',
      null,
      { 'data-process': process.id, 'data-status': process.status },
      [
        element('strong', `${process.kind} ${process.signerId}`),
        element(
          'span',
          ` ${process.status}${process.status === 'running' ? `, ${stepText(process)}` : ''}${error}`,
          { class: 'status' },
        ),
      ],
    );
    item.append(timelineOf(process));
    return item;
  });
  list.replaceChildren(...items);
}

/** The process's timeline picture, fetched with the token and shown inline (a blob URL). */
function timelineOf(process) {
  const figure = element('figure', null, { class: 'timeline' });
  const image = element('img', null, { alt: `timeline of ${process.kind} ${process.signerId}` });
  figure.append(image);
  const key = `${process.id}:${process.status}:${process.currentStep}`;
  const known = state.timelines.get(process.id);
  if (known?.key === key) {
    image.src = known.url;
    return figure;
  }
  const zone = encodeURIComponent(state.zone);
  api(`/v1/zones/${zone}/processes/${encodeURIComponent(process.id)}/timeline.svg`)
    .then((svg) => {
      const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
      if (known) URL.revokeObjectURL(known.url);
      state.timelines.set(process.id, { key, url });
      image.src = url;
    })
    .catch(() => figure.append(element('figcaption', 'no timeline yet')));
  return figure;
}

// Statistics and audit.

function table(columns, rows) {
  const head = element(
    'tr',
    null,
    {},
    columns.map(([title]) => element('th', title)),
  );
  const none = element('td', 'none yet', { colspan: String(columns.length) });
  const body =
    rows.length === 0
      ? [element('tr', null, {}, [none])]
      : rows.map((row) =>
          element(
            'tr',
            null,
            {},
            columns.map(([, value]) => element('td', value(row))),
          ),
        );
  return element('table', null, {}, [
    element('thead', null, {}, [head]),
    element('tbody', null, {}, body),
  ]);
}

const secondsText = (value) => `${Number(value).toFixed(1)} s`;

async function refreshStats() {
  if (!state.zone) return;
  const stats = await api(`/v1/zones/${encodeURIComponent(state.zone)}/stats`);
  const o = stats.observations;
  $('stats').replaceChildren(
    element('h4', 'Processes by kind and outcome'),
    table(
      [
        ['Kind', (row) => row.kind],
        ['Total', (row) => row.total],
        ['Completed', (row) => row.completed],
        ['Stopped', (row) => row.stopped],
        ['Failed', (row) => row.failed],
        ['Running', (row) => row.running],
      ],
      stats.processes,
    ),
    element('h4', 'Durations against mandated waits'),
    table(
      [
        ['Kind', (row) => row.kind],
        ['Completed', (row) => row.count],
        ['Median', (row) => secondsText(row.medianSeconds)],
        ['Mandated waits', (row) => secondsText(row.mandatedWaitSeconds)],
        ['Waiting for the parent', (row) => secondsText(row.parentSeconds)],
        ["Chorus's overhead", (row) => secondsText(row.overheadSeconds)],
      ],
      stats.durations,
    ),
    element(
      'p',
      `Glitches: ${o.glitches} (invariant violations ${o.violations}, validation failures ${o.validationFailures}, disagreements ${o.disagreements})`,
      { id: 'glitches' },
    ),
    element('h4', 'Retries and their causes'),
    table(
      [
        ['Signer', (row) => row.signerId],
        ['Error', (row) => row.errorName],
        ['Count', (row) => row.count],
      ],
      stats.retries,
    ),
    element('h4', 'Writes per provider'),
    table(
      [
        ['Signer', (row) => row.signerId],
        ['Reconciliations', (row) => row.reconciliations],
        ['Changes', (row) => row.changes],
      ],
      stats.writes,
    ),
  );
}

async function runAudit(event) {
  event.preventDefault();
  const server = $('parent-server').value.trim();
  const port = $('child-port').value.trim();
  const parameters = new URLSearchParams();
  if (server) parameters.set('parentServer', server);
  if (port) parameters.set('childPort', port);
  const query = parameters.size > 0 ? `?${parameters}` : '';
  $('audit-summary').textContent = 'auditing from the public DNS…';
  try {
    const report = await api(`/v1/zones/${encodeURIComponent(state.zone)}/audit${query}`);
    $('audit-summary').textContent =
      `${report.zone}: ${report.status} (observed ${report.observedAt})`;
    $('audit-checks')
      .querySelector('tbody')
      .replaceChildren(
        ...report.checks.map((check) =>
          element('tr', null, { 'data-check': check.id, class: check.status }, [
            element('td', check.title),
            element('td', check.status),
            element('td', check.servers.join(' ')),
            element('td', check.details.map((detail) => detail.message).join('; ')),
          ]),
        ),
      );
  } catch (error) {
    $('audit-summary').textContent = `audit failed: ${error.message}`;
  }
}

// Start, stop, undo.

async function act(what, call) {
  try {
    const result = await call();
    say(`${what}: accepted (process ${result.processId})`);
    await refreshZone();
  } catch (error) {
    say(`${what}: ${error.message}`, true);
  }
}

function startProcess(event) {
  event.preventDefault();
  const kind = $('kind').value;
  const signerId = $('signer').value;
  const body = { kind, signerId };
  return act(`${kind} ${signerId}`, () =>
    api(`/v1/zones/${encodeURIComponent(state.zone)}/processes`, {
      method: 'POST',
      body: JSON.stringify(body),
    }),
  );
}

function stopProcess(process) {
  return act(`stop ${process.kind} ${process.signerId}`, () =>
    api(`/v1/zones/${encodeURIComponent(state.zone)}/stop`, {
      method: 'POST',
      body: JSON.stringify({ processId: process.id, reason: 'stopped from the web page' }),
    }),
  );
}

function undoLast() {
  return act('undo', () =>
    api(`/v1/zones/${encodeURIComponent(state.zone)}/undo`, { method: 'POST', body: '{}' }),
  );
}

// Wiring and timers.

function tickCountdowns() {
  for (const process of state.zoneStatus?.activeProcesses ?? []) {
    const node = document.querySelector(`.countdown[data-process="${CSS.escape(process.id)}"]`);
    if (node) node.textContent = waitText(process);
  }
}

function every(ms, task) {
  setInterval(() => {
    if (state.token && state.role) task().catch((error) => say(error.message, true));
  }, ms);
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('login-error').textContent = '';
  signIn($('token').value.trim()).catch((error) => {
    $('login-error').textContent = error.message;
  });
});
$('sign-out').addEventListener('click', signOut);
$('start-form').addEventListener('submit', (event) => void startProcess(event));
$('undo').addEventListener('click', () => void undoLast());
$('audit-form').addEventListener('submit', (event) => void runAudit(event));

every(2000, refreshZone);
every(10_000, refreshStats);
every(15_000, refreshZones);
setInterval(tickCountdowns, 1000);
if (state.token) signIn(state.token).catch(signOut);
