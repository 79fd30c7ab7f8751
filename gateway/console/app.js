// mobkit console: one page over the gateway's API, no library.
// The token is kept in sessionStorage and sent as Authorization: Bearer;
// since EventSource can send no header, the event stream and streamed
// replies are read with fetch and a small SSE parser.
'use strict';

const TOKEN_KEY = 'mobkit.token';
const LOG_MAX = 1000;
const $ = (id) => document.getElementById(id);

const app = {
	token: sessionStorage.getItem(TOKEN_KEY),
	status: null,
	selected: null,		// the child shown in the detail pane
	lastSeq: 0,		// resume the event stream after it
	events: [],		// what the log holds (newest last)
	streamAbort: null,
	timers: {},
};

// --- little helpers ---------------------------------------------------

// An element with a class and text (never HTML: the data is not ours).
function el(tag, cls, text) {
	const e = document.createElement(tag);
	if (cls) e.className = cls;
	if (text !== undefined && text !== null) e.textContent = String(text);
	return e;
}

// Call fn at most once in ms (the last call wins).
function later(name, ms, fn) {
	clearTimeout(app.timers[name]);
	app.timers[name] = setTimeout(fn, ms);
}

function ago(ms) {
	const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
	if (s < 60) return s + 's';
	if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
	if (s < 86400) return Math.floor(s / 3600) + 'h' + Math.floor(s % 3600 / 60) + 'm';
	return Math.floor(s / 86400) + 'd' + Math.floor(s % 86400 / 3600) + 'h';
}

function clock(ms) {
	const d = new Date(ms);
	const p = (n, w) => String(n).padStart(w || 2, '0');
	return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) +
	    '.' + p(d.getMilliseconds(), 3);
}

class Unauthorized extends Error {}

// fetch with the token; JSON back, or an Error with the gateway's message.
async function api(method, path, body) {
	const init = { method, headers: { Authorization: 'Bearer ' + app.token } };
	if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	const res = await fetch(path, init);
	if (res.status === 401) throw new Unauthorized('unauthorized');
	const j = await res.json().catch(() => null);
	if (!res.ok) throw new Error(j && j.error ? j.error.message : res.status + ' ' + res.statusText);
	return j;
}

// Read a text/event-stream response, calling onEvent(type, data, id).
async function readSSE(res, onEvent) {
	const reader = res.body.getReader();
	const dec = new TextDecoder();
	let buf = '';
	for (;;) {
		const { value, done } = await reader.read();
		if (done) return;
		buf += dec.decode(value, { stream: true });
		let i;
		while ((i = buf.indexOf('\n\n')) >= 0) {
			const block = buf.slice(0, i);
			buf = buf.slice(i + 2);
			let type = 'message', data = '', id = null;
			for (const line of block.split('\n')) {
				if (line.startsWith(':')) continue;
				const c = line.indexOf(':');
				const k = c < 0 ? line : line.slice(0, c);
				const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
				if (k === 'event') type = v;
				else if (k === 'data') data += (data ? '\n' : '') + v;
				else if (k === 'id') id = v;
			}
			if (data) onEvent(type, JSON.parse(data), id);
		}
	}
}

function showError(where, e) {
	if (e instanceof Unauthorized) return askToken('The token was refused.');
	const p = $(where);
	if (p) p.textContent = String(e.message || e);
}

// --- the token ----------------------------------------------------------

function askToken(why) {
	stopStream();
	app.token = null;
	sessionStorage.removeItem(TOKEN_KEY);
	$('login-error').textContent = why || '';
	$('login').hidden = false;
	$('token-input').focus();
}

async function login(ev) {
	ev.preventDefault();
	app.token = $('token-input').value.trim();
	try {
		await api('GET', '/v1/status');
	} catch (e) {
		$('login-error').textContent = e instanceof Unauthorized ?
		    'This token is not accepted.' : String(e.message || e);
		return;
	}
	sessionStorage.setItem(TOKEN_KEY, app.token);
	$('token-input').value = '';
	$('login').hidden = true;
	start();
}

// --- the tree -------------------------------------------------------------

async function refreshStatus() {
	try {
		app.status = await api('GET', '/v1/status');
	} catch (e) {
		return showError('daemon', e);
	}
	renderDaemon();
	renderTree();
}

function renderDaemon() {
	const d = app.status.daemon;
	$('daemon').textContent = 'mobkitd ' + d.state + ' · pid ' + d.pid +
	    ' · up ' + ago(Date.now() - d.uptime_ms) + ' · ' + d.config;
}

// Groups in tree order (parents first), each with its depth.
function groupOrder(groups) {
	const out = [];
	const walk = (parent, depth) => {
		for (const g of groups)
			if (g.parent === parent) {
				out.push({ g, depth });
				walk(g.name, depth + 1);
			}
	};
	walk(null, 0);
	return out;
}

function actionButton(c, verb) {
	const b = el('button', verb, verb);
	b.type = 'button';
	b.title = verb + ' ' + c.name;
	b.addEventListener('click', async (ev) => {
		ev.stopPropagation();
		b.disabled = true;
		try {
			await api('POST', '/v1/children/' + encodeURIComponent(c.name) + '/' + verb);
		} catch (e) {
			alertLine(verb + ' ' + c.name + ': ' + (e.message || e));
		}
		b.disabled = false;
		later('status', 100, refreshStatus);
	});
	return b;
}

function childRow(c, depth, old) {
	const tr = el('tr', 'child' + (app.selected === c.name ? ' selected' : ''));
	tr.dataset.name = c.name;
	tr.dataset.kind = c.kind;
	tr.append(el('td', 'name indent' + Math.min(depth + 1, 3), c.name),
	    el('td', 'kind muted', c.kind),
	    el('td', 'state st-' + c.state, c.state +
		(c.next_restart_in_ms != null ? ' (' + Math.ceil(c.next_restart_in_ms / 1000) + 's)' : '')),
	    el('td', 'pid num', c.pid == null ? '–' : c.pid),
	    el('td', 'restarts num', c.restarts),
	    el('td', 'since', c.since_ms ? ago(c.since_ms) : ''));
	const act = el('td', 'actions');
	act.append(actionButton(c, 'start'), actionButton(c, 'stop'), actionButton(c, 'restart'));
	tr.append(act);
	if (old && (old.pid !== c.pid || old.state !== c.state)) tr.classList.add('flash');
	tr.addEventListener('click', () => select(c.name));
	return tr;
}

function renderTree() {
	const body = $('tree-body');
	const before = {};
	for (const c of (app.prevChildren || [])) before[c.name] = c;
	body.replaceChildren();
	const st = app.status;
	for (const { g, depth } of groupOrder(st.groups || [])) {
		const tr = el('tr', 'group');
		const td = el('td', 'indent' + Math.min(depth, 3),
		    g.name + ' · ' + g.strategy + ' · restarts ' + g.restarts + ' · budget ' + g.budget_left);
		td.colSpan = 7;
		tr.append(td);
		body.append(tr);
		for (const c of st.children)
			if (c.group === g.name) body.append(childRow(c, depth, before[c.name]));
	}
	for (const c of st.children)
		if (!(st.groups || []).some((g) => g.name === c.group))
			body.append(childRow(c, 0, before[c.name]));
	app.prevChildren = st.children;
	const bad = st.children.filter((c) => c.state !== 'healthy').length;
	$('tree-count').textContent = st.children.length + ' children' + (bad ? ', ' + bad + ' not healthy' : '');
}

// --- the detail pane: a member, or another child --------------------------

function select(name) {
	app.selected = name;
	const c = app.status.children.find((x) => x.name === name);
	for (const tr of $('tree-body').querySelectorAll('tr.child'))
		tr.classList.toggle('selected', tr.dataset.name === name);
	$('detail-empty').hidden = true;
	$('detail').hidden = false;
	$('detail-title').textContent = name;
	$('detail-kind').textContent = c ? c.kind + ' · ' + c.group : '';
	const member = c && c.kind === 'member';
	$('member-view').hidden = !member;
	$('child-view').hidden = member;
	$('reply-box').hidden = true;
	if (member) refreshMember();
	else refreshTransitions();
}

async function refreshTransitions() {
	const name = app.selected;
	let tr;
	try {
		tr = await api('GET', '/v1/transitions?name=' + encodeURIComponent(name));
	} catch (e) {
		return showError('detail-kind', e);
	}
	if (name !== app.selected) return;
	const body = $('transitions-body');
	body.replaceChildren();
	for (const t of tr.slice(-50).reverse()) {
		const row = el('tr');
		row.append(el('td', '', clock(t.at_ms)), el('td', 'st-' + t.from, t.from || '–'),
		    el('td', 'st-' + t.to, t.to), el('td', 'num', t.attempt));
		body.append(row);
	}
}

async function refreshMember() {
	const id = app.selected;
	const path = '/v1/members/' + encodeURIComponent(id);
	try {
		const inputs = await api('GET', path + '/inputs');
		if (id !== app.selected) return;
		renderInputs(inputs);
	} catch (e) {
		showError('inputs-count', e);
	}
	let conv = null, why = app.noConversation;
	try {
		// a root without the verb is asked once
		if (!app.noConversation) conv = await api('GET', path + '/conversation');
	} catch (e) {
		if (e instanceof Unauthorized) return askToken('The token was refused.');
		why = e.message || String(e);
		if (/verb/.test(why)) app.noConversation = why;
	}
	if (id !== app.selected) return;
	renderConversation(conv, why);
}

function renderInputs(inputs) {
	const body = $('inputs-body');
	body.replaceChildren();
	const queued = inputs.filter((i) => i.state === 'queued' || i.state === 'running').length;
	$('inputs-count').textContent = inputs.length + ' inputs, ' + queued + ' queued or running';
	for (const i of inputs.slice(-30).reverse()) {
		const tr = el('tr');
		tr.append(el('td', '', i.input_id), el('td', 'st-' + i.state, i.state),
		    el('td', 'num', i.attempts), el('td', 'muted', i.key == null ? '' : i.key));
		body.append(tr);
	}
}

// The conversation (its messages), or, where the root keeps none for
// this member, its turns as the event log has them.
function renderConversation(conv, why) {
	const box = $('conversation');
	box.replaceChildren();
	let msgs = [];
	if (conv) {
		const list = Array.isArray(conv) ? conv : (conv.messages || []);
		msgs = list.map((m) => ({ role: m.role || '?', text: typeof m.content === 'string' ?
		    m.content : m.tool_calls ? 'tool calls: ' + JSON.stringify(m.tool_calls) :
		    JSON.stringify(m.content) }));
	} else {
		box.append(el('div', 'muted', 'No stored conversation (' + why + '); its turns from the event log:'));
		for (const e of app.events)
			if (e.name === app.selected && (e.event_type === 'run_started' || e.event_type === 'run_completed'))
				msgs.push({ role: e.event_type === 'run_started' ? 'user' : 'assistant',
				    text: e.payload.text || '' });
	}
	for (const m of msgs.slice(-40)) {
		const d = el('div', 'msg ' + m.role);
		d.append(el('div', 'role', m.role), el('pre', '', m.text));
		box.append(d);
	}
	if (!msgs.length) box.append(el('div', 'muted', 'nothing yet'));
}

// Send the box's text and stream the reply in (delta events, one result).
async function send(ev) {
	ev.preventDefault();
	const text = $('send-text').value;
	const id = app.selected;
	if (!text.trim()) return;
	const reply = $('reply');
	reply.textContent = '';
	reply.dataset.deltas = '0';
	$('reply-box').hidden = false;
	$('reply-status').textContent = 'sending…';
	$('send-btn').disabled = true;
	try {
		const res = await fetch('/v1/members/' + encodeURIComponent(id) + '/inputs', {
			method: 'POST',
			headers: { Authorization: 'Bearer ' + app.token, Accept: 'text/event-stream',
			    'Content-Type': 'application/json' },
			body: JSON.stringify({ text }),
		});
		if (res.status === 401) throw new Unauthorized();
		if (!res.ok) {
			const j = await res.json().catch(() => null);
			throw new Error(j && j.error ? j.error.message : String(res.status));
		}
		$('reply-status').textContent = 'streaming…';
		await readSSE(res, (type, data) => {
			if (type === 'delta') {
				reply.textContent += data.delta;
				reply.dataset.deltas = String(Number(reply.dataset.deltas) + 1);
			} else if (type === 'result') {
				if (data.error) throw new Error(data.error.message);
				const r = data.result || {};
				if (r.text != null) reply.textContent = r.text;
				$('reply-status').textContent = (r.status || data.outcome) +
				    (r.error ? ': ' + r.error : '') + ' · ' + data.input_id;
				reply.dataset.done = r.status || data.outcome;
			}
		});
		$('send-text').value = '';
	} catch (e) {
		if (e instanceof Unauthorized) return askToken('The token was refused.');
		$('reply-status').textContent = 'error: ' + (e.message || e);
	} finally {
		$('send-btn').disabled = false;
	}
	if (id === app.selected) refreshMember();
}

// --- the event log --------------------------------------------------------

function eventClass(e) {
	const t = e.event_type || '';
	const to = e.payload && e.payload.to;
	if (/fail|crash|error|abandon|reject|dropped/.test(t) || /failed|crashed|fatal|backoff/.test(to || ''))
		return 'bad';
	if (to === 'healthy' || /completed|consumed/.test(t)) return 'good';
	return e.source === 'agent' ? 'agent' : '';
}

function summary(p) {
	if (!p || typeof p !== 'object') return p == null ? '' : String(p);
	if (p.from !== undefined && p.to) return (p.from || '∅') + ' → ' + p.to + (p.pid ? ' pid ' + p.pid : '');
	const s = JSON.stringify(p);
	return s === '{}' ? '' : s.length > 300 ? s.slice(0, 300) + '…' : s;
}

function passes(e) {
	const n = $('f-name').value.trim(), t = $('f-type').value.trim(), s = $('f-source').value;
	return (!n || (e.name || '').includes(n)) && (!t || (e.event_type || '').startsWith(t)) &&
	    (!s || e.source === s);
}

function logRow(e) {
	const tr = el('tr', eventClass(e));
	tr.append(el('td', 'ts', clock(e.timestamp_ms)), el('td', 'seq num', e.seq),
	    el('td', 'source', e.source), el('td', 'name', e.name), el('td', 'type', e.event_type),
	    el('td', 'payload', summary(e.payload)));
	return tr;
}

function renderLog() {
	const body = $('log-body');
	body.replaceChildren(...app.events.filter(passes).map(logRow));
	logCount();
	scrollLog();
}

function logCount() {
	$('log-count').textContent = $('log-body').rows.length + ' shown of ' + app.events.length;
}

function scrollLog() {
	if ($('f-follow').checked) {
		const s = $('log-scroll');
		s.scrollTop = s.scrollHeight;
	}
}

function alertLine(text) {
	addEvent({ seq: 0, timestamp_ms: Date.now(), source: 'console', name: '', event_type: 'error',
	    payload: text });
}

function addEvent(e) {
	app.events.push(e);
	const body = $('log-body');
	if (app.events.length > LOG_MAX) {
		const gone = app.events.shift();
		if (body.firstChild && passes(gone)) body.firstChild.remove();
	}
	if (passes(e)) body.append(logRow(e));
	later('logcount', 200, () => { logCount(); scrollLog(); });
}

// What an event changes on the page: the tree, the member shown.
function onEvent(type, data, id) {
	if (type === 'gap' || type === 'dropped') {
		alertLine('event stream: ' + type + ' ' + JSON.stringify(data));
		return;
	}
	if (!data || data.seq === undefined) return;
	if (id) app.lastSeq = Number(id);
	addEvent(data);
	if (data.event_type === 'child.transition' || data.source === 'supervisor')
		later('status', 150, refreshStatus);
	if (data.name === app.selected && !$('member-view').hidden &&
	    /^input\.|run_completed/.test(data.event_type))
		later('member', 300, refreshMember);
	if (data.name === app.selected && !$('child-view').hidden && data.event_type === 'child.transition')
		later('transitions', 300, refreshTransitions);
}

function live(on) {
	$('live').textContent = on ? 'live' : 'reconnecting';
	$('live').className = 'pill ' + (on ? 'on' : 'off');
}

// Follow /v1/events (resuming after the last seq seen), reconnecting.
async function stream() {
	const ctl = new AbortController();
	app.streamAbort = ctl;
	while (!ctl.signal.aborted) {
		try {
			const headers = { Authorization: 'Bearer ' + app.token, Accept: 'text/event-stream' };
			if (app.lastSeq) headers['Last-Event-ID'] = String(app.lastSeq);
			const res = await fetch('/v1/events', { headers, signal: ctl.signal });
			if (res.status === 401) return askToken('The token was refused.');
			if (!res.ok) throw new Error('events: ' + res.status);
			live(true);
			refreshStatus();
			await readSSE(res, onEvent);
		} catch (e) {
			if (ctl.signal.aborted) return;
		}
		live(false);
		await new Promise((r) => setTimeout(r, 1000));
	}
}

function stopStream() {
	if (app.streamAbort) app.streamAbort.abort();
	app.streamAbort = null;
	live(false);
}

// --- start ---------------------------------------------------------------

function start() {
	refreshStatus();
	stream();
}

document.addEventListener('DOMContentLoaded', () => {
	$('login-form').addEventListener('submit', login);
	$('send-form').addEventListener('submit', send);
	$('send-text').addEventListener('keydown', (e) => {
		if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('send-form').requestSubmit();
	});
	$('forget').addEventListener('click', () => askToken(''));
	for (const f of ['f-name', 'f-type', 'f-source']) $(f).addEventListener('input', renderLog);
	$('f-follow').addEventListener('change', scrollLog);
	// the "since" column and the uptime age without an event
	setInterval(() => { if (app.status && app.token) refreshStatus(); }, 5000);
	if (app.token) start();
	else askToken('');
});
