// The KKS realtime dashboard: an operator logs in, sees the overview of its region,
// drills down to a village and a family, and watches the figures follow the ledger
// (the page polls the monitoring endpoints). Served by the KKS server itself; nothing is
// loaded from elsewhere. Every text from the server is inserted as text, never as HTML.
"use strict";

const POLL_MILLISECONDS = 2000;
const SERIES_DAYS = 30;
const POCKET_NAMES = { wallet_pkh: "PKH", wallet_bpnt: "BPNT (pangan)", wallet_lpg: "LPG", savings: "Tabungan (savings)" };
const PROGRAMME_POCKETS = ["wallet_pkh", "wallet_bpnt", "wallet_lpg"];

const state = { access: null, refresh: null, who: "", view: { region: null, family: null, q: null }, shown: null, timer: null, busy: false, standbyLagMs: null, journalsBehind: 0 };
const byId = (id) => document.getElementById(id);

// --- Small helpers ------------------------------------------------------------------

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

// "1500000.00" → "Rp 1.500.000" (exact: the amount stays a string).
function rupiah(amount) {
  const text = String(amount ?? "0");
  const negative = text.startsWith("-");
  const [whole, fraction] = text.replace("-", "").split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  const cents = fraction && /[1-9]/.test(fraction) ? "," + fraction.padEnd(2, "0").slice(0, 2) : "";
  return (negative ? "-Rp " : "Rp ") + grouped + cents;
}

// Sums decimal amounts ("1500000.00") exactly, in sen, and gives one back.
function sumAmounts(amounts) {
  const sen = amounts.reduce((sum, amount) => {
    const [whole, fraction = ""] = String(amount).replace("-", "").split(".");
    const value = BigInt(whole) * 100n + BigInt((fraction + "00").slice(0, 2));
    return String(amount).startsWith("-") ? sum - value : sum + value;
  }, 0n);
  const negative = sen < 0n;
  const absolute = negative ? -sen : sen;
  return `${negative ? "-" : ""}${absolute / 100n}.${String(absolute % 100n).padStart(2, "0")}`;
}

function count(value) {
  return String(value ?? 0).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
}

function percent(value) {
  return value === null || value === undefined ? "–" : String(value).replace(".", ",") + "%";
}

function pocketOf(figures, kind) {
  return figures.pockets.find((pocket) => pocket.pocket === kind);
}

// --- Talking to the API -------------------------------------------------------------

async function login(username, password) {
  const response = await fetch("/v1/auth/operators/login", {
    method: "POST",
    headers: { "content-type": "application/json", "accept-language": "id" },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.title ? `${body.title} (${body.code})` : `login failed (${response.status})`);
  state.access = body.access_token;
  state.refresh = body.refresh_token;
  state.who = username;
  sessionStorage.setItem("kks-dashboard", JSON.stringify({ access: state.access, refresh: state.refresh, who: username }));
}

async function refreshTokens() {
  const response = await fetch("/v1/auth/refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: state.refresh }),
  });
  if (!response.ok) return false;
  const body = await response.json();
  state.access = body.access_token;
  state.refresh = body.refresh_token;
  sessionStorage.setItem("kks-dashboard", JSON.stringify({ access: state.access, refresh: state.refresh, who: state.who }));
  return true;
}

// GET a monitoring path (or POST `body` to it); an expired token is refreshed once, then
// the login shows again.
async function api(path, accept = "application/json", body = undefined) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const init = { headers: { authorization: `Bearer ${state.access}`, accept } };
    if (body !== undefined) {
      init.method = "POST";
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 401 && attempt === 0 && state.refresh && (await refreshTokens())) continue;
    if (response.status === 401) {
      logout();
      throw new Error("session ended; log in again");
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || problem.title || `HTTP ${response.status}`);
    }
    return accept === "text/csv" ? response.text() : response.json();
  }
  throw new Error("unreachable");
}

function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== null && value !== undefined && value !== "") search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

// --- Views --------------------------------------------------------------------------

function showError(error) {
  byId("error").textContent = error ? String(error.message || error) : "";
}

function breadcrumbs(path, current) {
  const nav = byId("breadcrumbs");
  nav.replaceChildren();
  const link = (label, code) => {
    const anchor = element("a", label);
    anchor.href = code ? `#region=${code}` : "#";
    return anchor;
  };
  nav.append(link("Nasional", null));
  for (const region of path) {
    nav.append(element("span", "›", "separator"), link(region.name, region.code));
  }
  if (current) nav.append(element("span", "›", "separator"), element("strong", current));
}

function tile(pocket, families) {
  const programme = pocket.programme || "savings";
  const box = element("div", null, `tile ${programme}`);
  box.dataset.pocket = pocket.pocket;
  box.append(element("h4", POCKET_NAMES[pocket.pocket]));
  const list = element("dl");
  const row = (label, value, key, big) => {
    const definition = element("dd", value, big ? "big" : "");
    definition.dataset.figure = `${pocket.pocket}.${key}`;
    list.append(element("dt", label), definition);
  };
  if (pocket.programme) {
    row("Disalurkan (credited)", rupiah(pocket.credited.amount), "credited", true);
    row("KPM menerima", count(pocket.credited.families), "credited_families");
    row("Terserap (absorbed)", `${rupiah(pocket.absorbed)} · ${percent(pocket.absorbed_percent)}`, "absorbed");
    if (pocket.pocket === "wallet_pkh") {
      row("Ke tabungan (to savings)", rupiah(pocket.moved_to_savings.amount), "moved_to_savings");
      row("KPM ke tabungan", count(pocket.moved_to_savings.families), "moved_to_savings_families");
    } else {
      row("Belanja (goods)", rupiah(pocket.spent_on_goods.amount), "spent_on_goods");
    }
    row("Dikembalikan (returned)", rupiah(pocket.returned_to_treasury.amount), "returned_to_treasury");
  } else {
    row("Tarik tunai (cash)", rupiah(pocket.withdrawn_in_cash.amount), "withdrawn_in_cash", true);
    row("KPM tarik tunai", count(pocket.withdrawn_in_cash.families), "withdrawn_in_cash_families");
    row("Dari e-wallet", rupiah(pocket.received_from_wallets.amount), "received_from_wallets");
    row("KPM terdaftar", count(families.total), "families");
  }
  row("Saldo (balance)", rupiah(pocket.balance), "balance");
  const held = pocket.held_by_reason.map((hold) => `${hold.reason}: ${rupiah(hold.amount)}`).join("; ");
  row("Diblokir (held)", held ? `${rupiah(pocket.held)} (${held})` : rupiah(pocket.held), "held");
  box.append(list);
  return box;
}

// One chart per programme: cumulative credited and absorbed over the last days.
function chart(pocketKind, series) {
  const days = [];
  for (let index = SERIES_DAYS - 1; index >= 0; index -= 1) {
    const day = new Date(Date.now() + 7 * 3600 * 1000 - index * 86400 * 1000);
    days.push(day.toISOString().slice(0, 10));
  }
  const daily = (flows) => days.map((day) => series
    .filter((point) => point.day === day && point.pocket === pocketKind && flows.includes(point.flow))
    .reduce((sum, point) => sum + Number(point.amount), 0));
  const cumulative = (values) => values.reduce((sums, value) => sums.concat((sums.at(-1) || 0) + value), []);
  const credited = cumulative(daily(["credited"]));
  const absorbed = cumulative(daily(["moved_to_savings", "spent_on_goods"]));
  const top = Math.max(1, ...credited, ...absorbed);
  const width = 300;
  const height = 110;
  const points = (values) => values.map((value, index) => `${(index * width) / (days.length - 1)},${height - (value / top) * (height - 10)}`).join(" ");
  const svgNamespace = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNamespace, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const line = (values, colour) => {
    const polyline = document.createElementNS(svgNamespace, "polyline");
    polyline.setAttribute("points", points(values));
    polyline.setAttribute("fill", "none");
    polyline.setAttribute("stroke", colour);
    polyline.setAttribute("stroke-width", "2");
    polyline.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(polyline);
  };
  const axis = document.createElementNS(svgNamespace, "line");
  axis.setAttribute("x1", "0"); axis.setAttribute("x2", String(width));
  axis.setAttribute("y1", String(height)); axis.setAttribute("y2", String(height));
  axis.setAttribute("stroke", "#d0d7de");
  svg.append(axis);
  const colour = getComputedStyle(document.documentElement).getPropertyValue(`--${pocketKind.replace("wallet_", "")}`).trim() || "#0969da";
  line(credited, colour);
  line(absorbed, "#8250df");
  const box = element("div", null, "chart");
  box.append(element("h4", `${POCKET_NAMES[pocketKind]} — ${SERIES_DAYS} hari (days), kumulatif`), svg);
  const legend = element("div", null, "legend");
  const swatch = (colourValue) => { const mark = element("span", "", "swatch"); mark.style.background = colourValue; return mark; };
  legend.append(swatch(colour), "disalurkan (credited)", swatch("#8250df"), "terserap (absorbed)");
  box.append(legend);
  return box;
}

function regionRow(child) {
  const figures = child.figures;
  const pkh = pocketOf(figures, "wallet_pkh");
  const bpnt = pocketOf(figures, "wallet_bpnt");
  const lpg = pocketOf(figures, "wallet_lpg");
  const savings = pocketOf(figures, "savings");
  const held = sumAmounts(figures.pockets.map((pocket) => pocket.held));
  const row = element("tr", null, "clickable");
  row.dataset.code = child.region.code;
  row.append(
    element("td", `${child.region.name} (${child.region.code})`),
    element("td", count(figures.families.total)),
    element("td", rupiah(pkh.credited.amount)),
    element("td", `${rupiah(pkh.moved_to_savings.amount)} · ${count(pkh.moved_to_savings.families)} KPM`),
    element("td", rupiah(bpnt.credited.amount)),
    element("td", `${rupiah(bpnt.absorbed)} · ${percent(bpnt.absorbed_percent)}`),
    element("td", `${rupiah(lpg.absorbed)} · ${percent(lpg.absorbed_percent)}`),
    element("td", rupiah(savings.withdrawn_in_cash.amount)),
    element("td", rupiah(held)),
  );
  row.addEventListener("click", () => { location.hash = `region=${child.region.code}`; });
  return row;
}

function familyRow(family) {
  const row = element("tr", null, "clickable");
  row.dataset.family = family.id;
  row.append(
    element("td", family.recipient_name),
    element("td", family.nik),
    element("td", family.status),
    element("td", rupiah(family.credited)),
    element("td", rupiah(family.absorbed)),
    element("td", rupiah(family.withdrawn_in_cash)),
    element("td", rupiah(family.balance)),
  );
  row.addEventListener("click", () => { location.hash = `family=${family.id}`; });
  return row;
}

function indicatorsView(indicators) {
  const box = byId("indicators");
  box.replaceChildren();
  const transfer = indicators.savings_transfer;
  box.append(element("p", `KPM PKH yang sudah memindahbukukan e-wallet ke tabungan: ${count(transfer.families_moved)} dari ${count(transfer.families_credited)} (${percent(transfer.percent)})`));
  const table = (headers, rows) => {
    const node = element("table", null, "figures");
    const head = element("tr");
    headers.forEach((header) => head.append(element("th", header)));
    const thead = element("thead"); thead.append(head);
    const tbody = element("tbody");
    rows.forEach((cells) => { const row = element("tr"); cells.forEach((cell) => row.append(element("td", cell))); tbody.append(row); });
    node.append(thead, tbody);
    return node;
  };
  if (indicators.stages.length) {
    box.append(table(["Tahap (stage)", "KPM dibayar", "Tepat waktu", "Tepat jumlah", "Jumlah"],
      indicators.stages.map((stage) => [`${stage.programme.toUpperCase()} ${stage.year}-${stage.period}`, count(stage.families_paid),
        `${count(stage.paid_on_time)} (${percent(stage.on_time_percent)})`, `${count(stage.paid_right_amount)} (${percent(stage.right_amount_percent)})`, rupiah(stage.amount_paid)])));
  }
  if (indicators.savings_transfer_by_facilitator.length) {
    box.append(table(["Pendamping", "KPM PKH", "Ke tabungan", "%"], indicators.savings_transfer_by_facilitator.map((area) =>
      [area.facilitator.name, count(area.families_credited), count(area.families_moved), percent(area.percent)])));
  }
  if (indicators.verifications.length || indicators.cycle_outcomes.length) {
    const outcomes = new Map(indicators.cycle_outcomes.map((cycle) => [cycle.cycle, cycle]));
    const cycles = [...new Set([...indicators.verifications.map((cycle) => cycle.cycle), ...outcomes.keys()])].sort();
    box.append(table(["Siklus", "Komitmen", "Tidak komitmen", "Ditangguhkan", "Dibuka", "Dihentikan"], cycles.map((cycle) => {
      const verification = indicators.verifications.find((entry) => entry.cycle === cycle) || { complied: 0, failed: 0, failed_by_obligation: {} };
      const outcome = outcomes.get(cycle) || { suspended: 0, released: 0, terminated: 0 };
      const reasons = Object.entries(verification.failed_by_obligation).map(([obligation, families]) => `${obligation} ${families}`).join(", ");
      return [cycle, count(verification.complied), `${count(verification.failed)}${reasons ? ` (${reasons})` : ""}`, count(outcome.suspended), count(outcome.released), count(outcome.terminated)];
    })));
  }
  const families = indicators.families;
  box.append(element("p", `KPM: ${count(families.active)} aktif, ${count(families.suspended)} ditangguhkan, ${count(families.terminated)} dihentikan, ${count(families.graduated)} graduasi`));
  const exits = Object.entries(indicators.exits_by_reason || {});
  if (exits.length) {
    const wording = { sudah_mampu: "Sudah mampu", usaha_berkembang_pesat: "Usaha berkembang pesat", sudah_tidak_ada_komponen_pkh: "Sudah tidak ada komponen PKH" };
    box.append(table(["Alasan keluar PKH (graduasi)", "KPM"], exits.map(([reason, families]) => [wording[reason] || reason, count(families)])));
  }
  // Pengaduan (complaints): overdue ones are open past their deadline.
  const complaints = Object.entries(indicators.complaints_by_category || {});
  if (complaints.length) {
    box.append(table(["Pengaduan (kategori)", "Diterima", "Ditangani", "Terbuka", "Lewat batas waktu"], complaints.map(([category, tally]) =>
      [category.replaceAll("_", " "), count(tally.received), count(tally.handled), count(tally.open), count(tally.overdue)])));
  }
  const sessions = Object.entries(indicators.p2k2_by_module || {});
  if (sessions.length) {
    box.append(table(["P2K2 (modul)", "Pertemuan", "Kehadiran KPM"], sessions.map(([module, attendance]) =>
      [module.replaceAll("_", " "), count(attendance.sessions), count(attendance.attendances)])));
  }
}

function agentsView(activity) {
  const body = byId("agents").querySelector("tbody");
  body.replaceChildren(...activity.agents.map((agent) => {
    const row = element("tr");
    row.dataset.agent = agent.username;
    row.append(element("td", agent.display_name), element("td", count(agent.transactions)), element("td", rupiah(agent.cash_out)), element("td", rupiah(agent.goods_sold)));
    return row;
  }));
}

// Marks the figures that changed since the last refresh of the same view, so a watcher
// sees them move.
function flashChanged(container, before, view) {
  const sameView = state.shown === view;
  state.shown = view;
  if (!sameView) return;
  container.querySelectorAll("[data-figure]").forEach((node) => {
    if (before.has(node.dataset.figure) && before.get(node.dataset.figure) !== node.textContent) node.classList.add("flash");
  });
}

async function showRegion(code) {
  const [overview, indicators, agents] = await Promise.all([
    api(`/v1/monitoring/overview${query({ region: code, days: SERIES_DAYS })}`),
    api(`/v1/monitoring/indicators${query({ region: code })}`),
    api(`/v1/monitoring/agents${query({ region: code })}`),
  ]);
  const region = overview.region;
  state.standbyLagMs = overview.standby_lag_ms;
  state.journalsBehind = overview.journal.journals_behind;
  breadcrumbs(overview.path, region ? region.name : null);
  byId("region-title").textContent = region ? `${region.name} (${region.level}, ${region.code})` : "Nasional (Indonesia)";
  const headline = byId("headline");
  const before = new Map([...headline.querySelectorAll("[data-figure]")].map((node) => [node.dataset.figure, node.textContent]));
  headline.replaceChildren(...overview.figures.pockets.map((pocket) => tile(pocket, overview.figures.families)));
  flashChanged(headline, before, `region:${code || ""}`);
  byId("charts").replaceChildren(...PROGRAMME_POCKETS.map((kind) => chart(kind, overview.series)));
  byId("regions").querySelector("tbody").replaceChildren(...overview.children.map(regionRow));
  const village = region && region.level === "village";
  byId("regions").hidden = village;
  byId("children-title").hidden = village;
  byId("families-block").hidden = !village;
  if (village) {
    const families = await api(`/v1/monitoring/families${query({ region: region.code, limit: 200 })}`);
    byId("families").querySelector("tbody").replaceChildren(...families.families.map(familyRow));
  }
  indicatorsView(indicators);
  agentsView(agents);
}

async function showFamily(id) {
  const page = await api(`/v1/monitoring/families/${encodeURIComponent(id)}`);
  const family = page.family;
  breadcrumbs(page.path, family.recipient_name);
  byId("family-title").textContent = `${family.recipient_name} — keluarga ${family.id}`;
  byId("family-facts").textContent = `NIK ${family.nik} · ${family.category} · status ${family.status} · desa ${family.village}`;
  const pockets = byId("family-pockets").querySelector("tbody");
  const before = new Map([...pockets.querySelectorAll("[data-figure]")].map((node) => [node.dataset.figure, node.textContent]));
  pockets.replaceChildren(...page.pockets.map((pocket) => {
    const row = element("tr");
    row.dataset.pocket = pocket.pocket;
    const balance = element("td", rupiah(pocket.balance));
    balance.dataset.figure = `${pocket.pocket}.balance`;
    row.append(element("td", POCKET_NAMES[pocket.pocket]), element("td", rupiah(pocket.credited.amount)), element("td", rupiah(pocket.moved_to_savings.amount)),
      element("td", rupiah(pocket.withdrawn_in_cash.amount)), element("td", rupiah(pocket.spent_on_goods.amount)),
      element("td", rupiah(pocket.returned_to_treasury.amount)), balance, element("td", rupiah(pocket.held)));
    return row;
  }));
  flashChanged(pockets, before, `family:${id}`);
  byId("timeline").querySelector("tbody").replaceChildren(...page.timeline.map((entry) => {
    const row = element("tr");
    row.append(element("td", entry.at.replace("T", " ").slice(0, 19)), element("td", entry.event), element("td", entry.pocket ? POCKET_NAMES[entry.pocket] : ""),
      element("td", entry.amount === null ? "" : rupiah(entry.amount)), element("td", entry.balance_after === null ? "" : rupiah(entry.balance_after)), element("td", entry.detail));
    return row;
  }));
}

// Search results replace the region's table; the headline stays the region's.
async function showSearch(region, text) {
  await showRegion(region);
  // A NIK or a name is personal data: it travels in the body, never in the URL.
  const found = await api("/v1/monitoring/families/search", "application/json", { region: region || undefined, q: text, limit: 50 });
  byId("regions").hidden = true;
  byId("children-title").hidden = true;
  byId("families-block").hidden = false;
  byId("families").querySelector("tbody").replaceChildren(...found.families.map(familyRow));
}

// --- The current view, refreshed by polling -------------------------------------------

function readHash() {
  const parameters = new URLSearchParams(location.hash.slice(1));
  // A search text is personal data (a NIK, a name): it is kept in memory, never in the
  // address bar or the browser's history.
  state.view = { region: parameters.get("region"), family: parameters.get("family"), q: null };
}

async function render() {
  if (state.busy || !state.access) return;
  state.busy = true;
  try {
    const family = state.view.family;
    byId("family-view").hidden = !family;
    byId("region-view").hidden = Boolean(family);
    if (family) await showFamily(family);
    else if (state.view.q) await showSearch(state.view.region, state.view.q);
    else await showRegion(state.view.region);
    // Figures read from a standby (kks serve --reports-database) say how far behind it is.
    const lag = state.standbyLagMs;
    const behind = lag == null ? "" : ` · dari replika, tertinggal ${(lag / 1000).toFixed(1)} dtk`;
    // Money figures are rolled up from the journal in the background: say when some are not in yet.
    const pending = state.journalsBehind > 0 ? ` · ${state.journalsBehind} jurnal belum terhitung` : "";
    byId("updated").textContent = `diperbarui ${new Date().toLocaleTimeString("id-ID")}${behind}${pending}`;
    byId("live").classList.remove("stale");
    showError(null);
  } catch (error) {
    byId("live").classList.add("stale");
    showError(error);
  } finally {
    state.busy = false;
  }
}

function start() {
  byId("login").hidden = true;
  byId("dashboard").hidden = false;
  byId("session").hidden = false;
  byId("who").textContent = state.who;
  readHash();
  render();
  clearInterval(state.timer);
  state.timer = setInterval(render, POLL_MILLISECONDS);
}

function logout() {
  clearInterval(state.timer);
  if (state.access) fetch("/v1/auth/logout", { method: "POST", headers: { authorization: `Bearer ${state.access}` } }).catch(() => {});
  state.access = null;
  state.refresh = null;
  sessionStorage.removeItem("kks-dashboard");
  byId("dashboard").hidden = true;
  byId("session").hidden = true;
  byId("login").hidden = false;
}

async function exportCsv(kind) {
  const paths = {
    overview: `/v1/monitoring/overview${query({ region: state.view.region })}`,
    indicators: `/v1/monitoring/indicators${query({ region: state.view.region })}`,
    agents: `/v1/monitoring/agents${query({ region: state.view.region })}`,
  };
  const text = await api(paths[kind], "text/csv");
  const link = element("a");
  link.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  link.download = `kks-${kind}${state.view.region ? "-" + state.view.region : ""}.csv`;
  link.click();
  URL.revokeObjectURL(link.href);
}

byId("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  byId("login-error").textContent = "";
  try {
    await login(byId("username").value.trim(), byId("password").value);
    byId("password").value = "";
    start();
  } catch (error) {
    byId("login-error").textContent = String(error.message || error);
  }
});
byId("logout").addEventListener("click", logout);
byId("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = byId("search").value.trim();
  if (!text) return;
  state.view = { region: state.view.region, family: null, q: text };
  render();
});
document.querySelectorAll("[data-export]").forEach((link) => link.addEventListener("click", (event) => {
  event.preventDefault();
  exportCsv(link.dataset.export).catch(showError);
}));
window.addEventListener("hashchange", () => { readHash(); render(); });

const saved = JSON.parse(sessionStorage.getItem("kks-dashboard") || "null");
if (saved && saved.access) {
  Object.assign(state, { access: saved.access, refresh: saved.refresh, who: saved.who });
  start();
}
