// The family app: log in with the card and PIN, see the pockets (and why money is held),
// the history, report the card lost, file and follow complaints. Plain script, no library.
// The last answers are kept in localStorage with the time they were fetched, so the app
// still shows them, and when, without a connection.
'use strict';

(function () {
  const KEYS = { lang: 'kks.app.lang', session: 'kks.app.session', data: 'kks.app.data' };

  const TEXT = {
    id: {
      'app.name': 'Keluarga',
      'logout': 'Keluar',
      'login.title': 'Masuk dengan kartu KKS',
      'login.card': 'Nomor kartu (16 angka di depan kartu)',
      'login.pin': 'PIN (6 angka)',
      'login.submit': 'Masuk',
      'login.hint': 'PIN sama dengan PIN di mesin EDC agen. Jangan beri tahu PIN kepada siapa pun.',
      'login.busy': 'Sedang masuk…',
      'login.expired': 'Sesi sudah berakhir. Silakan masuk lagi.',
      'tab.balances': 'Saldo',
      'tab.history': 'Riwayat',
      'tab.complaints': 'Pengaduan',
      'tab.card': 'Kartu',
      'balances.title': 'Saldo kartu',
      'refresh': 'Perbarui',
      'updated': 'Terakhir diperbarui {0}',
      'never': 'Belum pernah diperbarui.',
      'offline': 'Tidak ada koneksi internet. Yang tampil adalah data terakhir.',
      'offline.ready': 'Aplikasi ini tetap bisa dibuka tanpa internet.',
      'failed': 'Gagal memuat: {0}',
      'pocket.available': 'Bisa dipakai sekarang',
      'pocket.balance': 'Saldo {0}',
      'pocket.held': 'Ditahan {0}',
      'hold.amount': '{0} ditahan',
      'hold.ends': 'Berakhir {0}.',
      'hold.no_end': 'Belum ada tanggal berakhir.',
      'hold.reference': 'Keterangan: {0}',
      'block.title': 'Semua uang di dompet ini diblokir sejak {0}',
      'history.title': 'Riwayat transaksi',
      'history.empty': 'Belum ada transaksi.',
      'kind.balance_inquiry': 'Cek saldo',
      'kind.cash_withdrawal': 'Tarik tunai',
      'kind.wallet_to_savings': 'Pindah ke tabungan',
      'kind.purchase': 'Belanja',
      'kind.reversal': 'Pembatalan',
      'status.reversed': 'dibatalkan',
      'status.reversed_before_arrival': 'dibatalkan',
      'complaints.title': 'Pengaduan',
      'complaints.category': 'Masalahnya tentang',
      'complaints.description': 'Ceritakan masalahnya',
      'complaints.contact': 'Nomor HP untuk dihubungi (boleh kosong)',
      'complaints.send': 'Kirim pengaduan',
      'complaints.sent': 'Pengaduan nomor {0} terkirim. Batas waktu penanganan: {1}.',
      'complaints.empty_description': 'Tuliskan masalahnya dulu.',
      'complaints.mine': 'Pengaduan saya',
      'complaints.none': 'Belum ada pengaduan.',
      'complaints.due': 'Batas waktu {0}',
      'complaints.overdue': 'lewat batas waktu',
      'complaints.timeline': 'Perjalanan pengaduan',
      'complaints.resolution': 'Jawaban: {0}',
      'complaints.comment': 'Tambah keterangan',
      'complaints.comment_send': 'Kirim keterangan',
      'category.stage_not_received': 'Bantuan tahap ini belum masuk',
      'category.wrong_amount': 'Jumlah bantuan salah',
      'category.card_or_pin': 'Kartu atau PIN bermasalah',
      'category.agent_fee_or_refusal': 'Agen memungut biaya atau menolak',
      'category.data_error': 'Data keluarga salah',
      'category.eligibility': 'Hak sebagai penerima',
      'category.other': 'Lainnya',
      'complaint.received': 'Diterima',
      'complaint.in_progress': 'Sedang ditangani',
      'complaint.escalated': 'Diteruskan ke atasan',
      'complaint.resolved': 'Selesai',
      'complaint.closed': 'Ditutup',
      'complaint.rejected': 'Ditolak',
      'card.title': 'Kartu KKS',
      'card.number': 'Nomor kartu',
      'card.bank': 'Bank',
      'card.status': 'Status',
      'card.expires': 'Berlaku sampai',
      'card.active': 'Aktif',
      'card.lost': 'Dilaporkan hilang: diblokir',
      'card.replaced': 'Sudah diganti',
      'card.expired': 'Kedaluwarsa',
      'card.lost_hint': 'Kartu hilang atau dicuri? Laporkan segera: kartu langsung diblokir sehingga tidak bisa dipakai orang lain. Uang tetap aman di rekening.',
      'card.report_lost': 'Laporkan kartu hilang',
      'card.confirm': 'Blokir kartu {0} sekarang? Kartu ini tidak bisa dipakai lagi; untuk kartu baru, hubungi pendamping atau bank.',
      'card.reason': 'Dilaporkan hilang oleh keluarga lewat aplikasi',
      'card.blocked': 'Kartu sudah diblokir. Hubungi pendamping PKH atau bank untuk kartu pengganti.',
    },
    en: {
      'app.name': 'Family',
      'logout': 'Log out',
      'login.title': 'Log in with your KKS card',
      'login.card': 'Card number (16 digits on the front)',
      'login.pin': 'PIN (6 digits)',
      'login.submit': 'Log in',
      'login.hint': 'The same PIN as at the agent\'s EDC terminal. Never tell anyone your PIN.',
      'login.busy': 'Logging in…',
      'login.expired': 'Your session has ended. Please log in again.',
      'tab.balances': 'Balance',
      'tab.history': 'History',
      'tab.complaints': 'Complaints',
      'tab.card': 'Card',
      'balances.title': 'Card balance',
      'refresh': 'Refresh',
      'updated': 'Last updated {0}',
      'never': 'Not updated yet.',
      'offline': 'No internet connection. Showing the last data.',
      'offline.ready': 'This app also opens without internet.',
      'failed': 'Could not load: {0}',
      'pocket.available': 'Can be used now',
      'pocket.balance': 'Balance {0}',
      'pocket.held': 'Held {0}',
      'hold.amount': '{0} held',
      'hold.ends': 'Ends {0}.',
      'hold.no_end': 'No end date yet.',
      'hold.reference': 'Note: {0}',
      'block.title': 'All money in this wallet is blocked since {0}',
      'history.title': 'Transaction history',
      'history.empty': 'No transactions yet.',
      'kind.balance_inquiry': 'Balance check',
      'kind.cash_withdrawal': 'Cash withdrawal',
      'kind.wallet_to_savings': 'Moved to savings',
      'kind.purchase': 'Purchase',
      'kind.reversal': 'Reversal',
      'status.reversed': 'reversed',
      'status.reversed_before_arrival': 'reversed',
      'complaints.title': 'Complaints',
      'complaints.category': 'What is it about',
      'complaints.description': 'Describe the problem',
      'complaints.contact': 'Phone number to reach you (optional)',
      'complaints.send': 'Send complaint',
      'complaints.sent': 'Complaint number {0} sent. To be handled by {1}.',
      'complaints.empty_description': 'Please describe the problem first.',
      'complaints.mine': 'My complaints',
      'complaints.none': 'No complaints yet.',
      'complaints.due': 'Due {0}',
      'complaints.overdue': 'overdue',
      'complaints.timeline': 'What happened so far',
      'complaints.resolution': 'Answer: {0}',
      'complaints.comment': 'Add a note',
      'complaints.comment_send': 'Send note',
      'category.stage_not_received': 'This stage\'s money has not arrived',
      'category.wrong_amount': 'Wrong amount',
      'category.card_or_pin': 'Card or PIN problem',
      'category.agent_fee_or_refusal': 'Agent charged a fee or refused',
      'category.data_error': 'Family data is wrong',
      'category.eligibility': 'Eligibility',
      'category.other': 'Other',
      'complaint.received': 'Received',
      'complaint.in_progress': 'In progress',
      'complaint.escalated': 'Escalated',
      'complaint.resolved': 'Resolved',
      'complaint.closed': 'Closed',
      'complaint.rejected': 'Rejected',
      'card.title': 'KKS card',
      'card.number': 'Card number',
      'card.bank': 'Bank',
      'card.status': 'Status',
      'card.expires': 'Valid until',
      'card.active': 'Active',
      'card.lost': 'Reported lost: blocked',
      'card.replaced': 'Replaced',
      'card.expired': 'Expired',
      'card.lost_hint': 'Card lost or stolen? Report it at once: the card is blocked so nobody else can use it. Your money stays safe in the account.',
      'card.report_lost': 'Report card lost',
      'card.confirm': 'Block card {0} now? It cannot be used again; for a new card, ask your facilitator or the bank.',
      'card.reason': 'Reported lost by the family in the app',
      'card.blocked': 'The card is blocked. Ask your PKH facilitator or the bank for a replacement card.',
    },
  };
  const CATEGORIES = ['stage_not_received', 'wrong_amount', 'card_or_pin', 'agent_fee_or_refusal', 'data_error',
    'eligibility', 'other'];

  let lang = localStorage.getItem(KEYS.lang) === 'en' ? 'en' : 'id';
  let view = 'balances';
  /** What the line under the header says about the connection: [text key, value] or null. */
  let connection = null;

  // --- Small helpers -------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);

  function t(key, ...values) {
    const text = TEXT[lang][key] ?? TEXT.id[key] ?? key;
    return text.replace(/\{(\d)\}/g, (_, index) => values[Number(index)]);
  }

  /** An element with text children only: nothing from the API is ever parsed as HTML. */
  function el(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === 'class') element.className = value;
      else element.setAttribute(name, value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) element.append(child);
    }
    return element;
  }

  function readJson(key) {
    try {
      return JSON.parse(localStorage.getItem(key));
    } catch (_) {
      return null;
    }
  }

  /** "500000.00" → "Rp 500.000": exact, from the decimal string (no float). */
  function rupiah(amount) {
    const text = String(amount);
    const negative = text.startsWith('-');
    const [whole, fraction = ''] = text.replace(/^[-+]/, '').split('.');
    const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, lang === 'id' ? '.' : ',');
    const cents = /[1-9]/.test(fraction) ? (lang === 'id' ? ',' : '.') + fraction.padEnd(2, '0') : '';
    return (negative ? '−' : '') + 'Rp ' + grouped + cents;
  }

  const isPositive = (amount) => /[1-9]/.test(String(amount)) && !String(amount).startsWith('-');

  /** A UTC time from the API ("2026-12-04T10:00:00", no offset) in the phone's time. */
  function when(utc) {
    const date = new Date(/[Zz]|[+-]\d\d:\d\d$/.test(utc) ? utc : utc + 'Z');
    return date.toLocaleString(lang === 'id' ? 'id-ID' : 'en-GB',
      { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function day(isoDate) {
    return new Date(isoDate + 'T00:00:00').toLocaleDateString(lang === 'id' ? 'id-ID' : 'en-GB',
      { day: 'numeric', month: 'long', year: 'numeric' });
  }

  // --- The session and the kept answers ------------------------------------------------
  const session = () => readJson(KEYS.session);
  const saveSession = (value) => localStorage.setItem(KEYS.session, JSON.stringify(value));

  /** The last answers: { balances: {at, value}, history: …, profile: …, complaints: … }. */
  const kept = () => readJson(KEYS.data) || {};

  function keep(name, value) {
    const data = kept();
    data[name] = { at: new Date().toISOString(), value };
    localStorage.setItem(KEYS.data, JSON.stringify(data));
  }

  function forget() {
    localStorage.removeItem(KEYS.session);
    localStorage.removeItem(KEYS.data);
  }

  // --- The API ---------------------------------------------------------------------------
  class Offline extends Error {}

  class Refused extends Error {
    constructor(status, problem) {
      super(problem && problem.title ? problem.title : 'HTTP ' + status);
      this.status = status;
      this.code = problem && problem.code;
    }
  }

  async function send(method, path, body, token) {
    const headers = { 'Accept': 'application/json', 'Accept-Language': lang };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers['Authorization'] = 'Bearer ' + token;
    try {
      return await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store', credentials: 'omit' });
    } catch (_) {
      throw new Offline();
    }
  }

  async function answer(response) {
    if (response.ok) return response.status === 204 ? null : response.json();
    let problem = null;
    try {
      problem = await response.json();
    } catch (_) { /* not problem+json */ }
    throw new Refused(response.status, problem);
  }

  /** The renewal of a refused access token under way, shared by the calls made meanwhile. */
  let renewing = null;

  async function renew(current) {
    const renewed = await send('POST', '/v1/auth/refresh', { refresh_token: current.refresh_token });
    if (!renewed.ok) throw new Refused(401, null);
    const tokens = await renewed.json();
    saveSession({ ...current, access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    return tokens.access_token;
  }

  /** A call as the logged-in family; a refused access token is renewed once. */
  async function api(method, path, body) {
    const current = session();
    if (!current) throw new Refused(401, null);
    let response = await send(method, path, body, current.access_token);
    if (response.status === 401) {
      renewing = renewing || renew(current).finally(() => { renewing = null; });
      response = await send(method, path, body, await renewing);
    }
    return answer(response);
  }

  // --- Showing the answers ---------------------------------------------------------------
  function applyLanguage() {
    document.documentElement.lang = lang;
    for (const element of document.querySelectorAll('[data-t]')) element.textContent = t(element.dataset.t);
    const other = lang === 'id' ? 'en' : 'id';
    $('lang').textContent = other === 'en' ? 'English' : 'Bahasa Indonesia';
    $('lang').setAttribute('lang', other);
    const select = $('category');
    const chosen = select.value;
    select.replaceChildren(...CATEGORIES.map((code) => el('option', { value: code }, t('category.' + code))));
    if (chosen) select.value = chosen;
  }

  function updatedLine(entry) {
    return entry ? t('updated', when(entry.at)) : t('never');
  }

  function holdItem(hold) {
    // The explanation says what ends a hold of its kind; the date, when there is one, is the hold's own.
    const ends = hold.release_at ? t('hold.ends', when(hold.release_at)) : t('hold.no_end');
    return el('li', { class: 'hold', 'data-reason': hold.reason },
      el('strong', null, t('hold.amount', rupiah(hold.amount))),
      el('p', null, hold.explanation[lang]),
      el('p', { class: 'ends' }, ends),
      // An operator's case reference helps when the family asks about it; a rule's is for operators.
      hold.reason === 'investigation' ? el('p', { class: 'small' }, t('hold.reference', hold.reference)) : null);
  }

  function blockItem(block) {
    return el('li', { class: 'hold', 'data-reason': block.reason },
      el('strong', null, t('block.title', when(block.since))),
      el('p', null, block.explanation[lang]));
  }

  function showBalances() {
    const entry = kept().balances;
    $('updated').textContent = updatedLine(entry);
    const pockets = entry ? entry.value : [];
    $('pockets').replaceChildren(...pockets.map((pocket) => {
      const notes = [...pocket.holds.map(holdItem), pocket.block ? blockItem(pocket.block) : null].filter(Boolean);
      return el('article', { class: 'pocket', 'data-pocket': pocket.kind },
        el('h3', null, pocket.name[lang]),
        el('p', { class: 'available' }, t('pocket.available'),
          el('strong', { 'data-figure': 'available' }, rupiah(pocket.available))),
        el('p', { class: 'balance' }, t('pocket.balance', rupiah(pocket.balance)),
          isPositive(pocket.held) ? ' · ' + t('pocket.held', rupiah(pocket.held)) : null),
        notes.length ? el('ul', { class: 'holds' }, ...notes) : null);
    }));
  }

  /** A pocket's name as the server gives it with the balances (the e-wallet slip's names). */
  function pocketName(kind) {
    const entry = kept().balances;
    const pocket = entry && entry.value.find((each) => each.kind === kind);
    return pocket ? pocket.name[lang] : kind;
  }

  function showHistory() {
    const entry = kept().history;
    $('history-updated').textContent = updatedLine(entry);
    const transactions = entry ? entry.value : [];
    if (!transactions.length) {
      $('history').replaceChildren(el('li', null, t('history.empty')));
      return;
    }
    $('history').replaceChildren(...transactions.map((transaction) => {
      const reversed = transaction.status !== 'approved' ? ' (' + t('status.' + transaction.status) + ')' : '';
      const money = transaction.kind === 'balance_inquiry' ? '' : rupiah(transaction.amount);
      return el('li', { 'data-kind': transaction.kind },
        el('div', { class: 'row' }, el('span', null, t('kind.' + transaction.kind) + reversed),
          el('span', { class: 'amount' }, money)),
        el('div', { class: 'small' }, when(transaction.at),
          transaction.pocket ? ' · ' + pocketName(transaction.pocket) : ''));
    }));
  }

  function showComplaints() {
    const entry = kept().complaints;
    const complaints = entry ? [...entry.value].reverse() : [];
    if (!complaints.length) {
      $('complaints').replaceChildren(el('li', null, t('complaints.none')));
      return;
    }
    $('complaints').replaceChildren(...complaints.map((complaint) => el('li', { 'data-complaint': complaint.id },
      el('button', { type: 'button', 'aria-expanded': 'false' },
        el('div', { class: 'row' }, el('strong', null, '#' + complaint.id + ' ' + t('category.' + complaint.category)),
          el('span', { class: 'status', 'data-status': complaint.status }, t('complaint.' + complaint.status))),
        el('div', { class: 'small' }, complaint.description),
        el('div', { class: 'small' }, when(complaint.received_at) + ' · ' + t('complaints.due', when(complaint.due_at)),
          complaint.overdue ? ' · ' + t('complaints.overdue') : '')))));
  }

  function showCard() {
    const entry = kept().profile;
    const current = session();
    if (!entry || !current) {
      $('card-info').replaceChildren();
      return;
    }
    const cards = entry.value.cards;
    const card = cards.find((each) => each.card_number === current.card_number) || cards[cards.length - 1];
    if (!card) return;
    $('who').textContent = entry.value.recipient_name;
    $('card-info').replaceChildren(
      el('dt', null, t('card.number')), el('dd', null, card.masked_number),
      el('dt', null, t('card.bank')), el('dd', null, card.bank.toUpperCase()),
      el('dt', null, t('card.status')), el('dd', { id: 'card-status', 'data-status': card.status }, t('card.' + card.status)),
      el('dt', null, t('card.expires')), el('dd', null, day(card.expires_on)));
    $('report-lost').hidden = card.status !== 'active';
  }

  function showAll() {
    applyLanguage();
    showBalances();
    showHistory();
    showComplaints();
    showCard();
  }

  function showConnection(state) {
    connection = state;
    $('connection').textContent = state ? t(...state) : '';
    $('connection').hidden = !state;
  }

  function showView(name) {
    view = name;
    for (const button of document.querySelectorAll('#tabs button')) {
      if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
    }
    for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-' + name;
  }

  function showLogin(message) {
    $('home').hidden = true;
    $('logout').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
  }

  function showHome() {
    $('login').hidden = true;
    $('home').hidden = false;
    $('logout').hidden = false;
    showView(view);
    showAll();
  }

  // --- Loading -------------------------------------------------------------------------
  /** Fetches everything the app shows; on no connection the kept answers stay, with their time. */
  async function load() {
    const current = session();
    if (!current) return;
    const family = '/v1/families/' + current.family_id;
    const wanted = {
      balances: family + '/balances',
      history: family + '/transactions?limit=50',
      profile: family,
      complaints: '/v1/complaints?limit=200',
    };
    const results = await Promise.allSettled(Object.entries(wanted).map(async ([name, path]) => {
      keep(name, await api('GET', path));
    }));
    const failures = results.filter((result) => result.status === 'rejected').map((result) => result.reason);
    if (failures.some((failure) => failure instanceof Refused && failure.status === 401)) {
      forget();
      showLogin(t('login.expired'));
      return;
    }
    showAll();
    if (failures.some((failure) => failure instanceof Offline)) showConnection(['offline']);
    else if (failures.length) showConnection(['failed', failures[0].message]);
    else showConnection(null);
  }

  async function logIn(event) {
    event.preventDefault();
    const cardNumber = $('card').value.replace(/\D/g, '');
    const pin = $('pin').value.trim();
    $('login-error').textContent = t('login.busy');
    $('login-button').disabled = true;
    try {
      const tokens = await answer(await send('POST', '/v1/auth/families/login', { card_number: cardNumber, pin }));
      const me = await answer(await send('GET', '/v1/me', undefined, tokens.access_token));
      forget();
      saveSession({ access_token: tokens.access_token, refresh_token: tokens.refresh_token, family_id: me.family_id,
        card_number: cardNumber });
      $('pin').value = '';
      $('login-error').textContent = '';
      view = 'balances';
      showHome();
      await load();
    } catch (error) {
      $('login-error').textContent = error instanceof Offline ? t('offline') : error.message;
    } finally {
      $('login-button').disabled = false;
    }
  }

  async function logOut() {
    const current = session();
    forget();
    // The next person on this phone starts from an empty form and an empty page.
    $('card').value = '';
    $('pin').value = '';
    for (const list of ['pockets', 'history', 'complaints', 'card-info', 'complaint-detail']) $(list).replaceChildren();
    for (const line of ['complaint-message', 'card-message', 'who']) $(line).textContent = '';
    $('complaint-detail').hidden = true;
    showConnection(null);
    showLogin('');
    if (current) {
      try {
        await send('POST', '/v1/auth/logout', undefined, current.access_token);
      } catch (_) { /* offline: the token expires by itself */ }
    }
  }

  async function fileComplaint(event) {
    event.preventDefault();
    // A field may not carry line breaks: the text is sent as one paragraph.
    const description = $('description').value.replace(/\s+/g, ' ').trim();
    if (!description) {
      $('complaint-message').textContent = t('complaints.empty_description');
      return;
    }
    $('complaint-send').disabled = true;
    try {
      const filed = await api('POST', '/v1/complaints',
        { category: $('category').value, description, contact: $('contact').value.trim() });
      $('description').value = '';
      $('complaint-message').textContent = t('complaints.sent', filed.id, when(filed.due_at));
      keep('complaints', await api('GET', '/v1/complaints?limit=200'));
      showComplaints();
    } catch (error) {
      $('complaint-message').textContent = error instanceof Offline ? t('offline') : error.message;
    } finally {
      $('complaint-send').disabled = false;
    }
  }

  async function openComplaint(id) {
    const detail = $('complaint-detail');
    try {
      const complaint = await api('GET', '/v1/complaints/' + id);
      const comment = el('textarea', { id: 'comment', rows: '2', maxlength: '2000', 'aria-label': t('complaints.comment') });
      const sendComment = el('button', { type: 'button', class: 'secondary' }, t('complaints.comment_send'));
      sendComment.addEventListener('click', async () => {
        const text = comment.value.replace(/\s+/g, ' ').trim();
        if (!text) return;
        await api('POST', '/v1/complaints/' + id + '/comments', { text });
        await openComplaint(id);
      });
      detail.replaceChildren(...[
        el('h3', null, '#' + complaint.id + ' ' + t('category.' + complaint.category)),
        el('p', null, el('span', { class: 'status' }, t('complaint.' + complaint.status)), ' ',
          t('complaints.due', when(complaint.due_at))),
        complaint.resolution ? el('p', null, t('complaints.resolution', complaint.resolution)) : null,
        el('h3', null, t('complaints.timeline')),
        el('ul', { class: 'list' }, ...complaint.timeline.map((line) => el('li', null,
          el('div', { class: 'small' }, when(line.at) + ' · ' + t('complaint.' + line.status)),
          el('div', null, line.text)))),
        el('label', { for: 'comment' }, t('complaints.comment')), comment, sendComment,
      ].filter(Boolean));
      detail.hidden = false;
      detail.scrollIntoView();
    } catch (error) {
      detail.replaceChildren(el('p', { class: 'error' }, error instanceof Offline ? t('offline') : error.message));
      detail.hidden = false;
    }
  }

  async function reportLost() {
    const current = session();
    const profile = kept().profile;
    const card = profile && profile.value.cards.find((each) => each.card_number === current.card_number);
    if (!window.confirm(t('card.confirm', card ? card.masked_number : ''))) return;
    $('report-lost').disabled = true;
    try {
      await api('POST', '/v1/cards/' + encodeURIComponent(current.card_number) + '/report-lost',
        { reason: t('card.reason') });
      $('card-message').textContent = t('card.blocked');
      await load();
    } catch (error) {
      $('card-message').textContent = error instanceof Offline ? t('offline') : error.message;
    } finally {
      $('report-lost').disabled = false;
    }
  }

  // --- Start ---------------------------------------------------------------------------
  document.addEventListener('DOMContentLoaded', () => {
    $('lang').addEventListener('click', () => {
      lang = lang === 'id' ? 'en' : 'id';
      localStorage.setItem(KEYS.lang, lang);
      showAll();
      showConnection(connection);
    });
    $('login-form').addEventListener('submit', logIn);
    $('logout').addEventListener('click', logOut);
    $('refresh').addEventListener('click', load);
    $('complaint-form').addEventListener('submit', fileComplaint);
    $('report-lost').addEventListener('click', reportLost);
    $('tabs').addEventListener('click', (event) => {
      const button = event.target.closest('button[data-view]');
      if (button) showView(button.dataset.view);
    });
    $('complaints').addEventListener('click', (event) => {
      const item = event.target.closest('li[data-complaint]');
      if (item) openComplaint(item.dataset.complaint);
    });
    window.addEventListener('online', load);

    applyLanguage();
    if (session()) {
      showHome();
      load();
    } else {
      showLogin('');
    }

    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' })
        .then(() => navigator.serviceWorker.ready)
        .then(() => {
          $('offline-ready').hidden = false;
          document.body.dataset.offlineReady = 'true';
        })
        .catch(() => { /* without a worker the app still works online */ });
    }
  });
})();
