// The family app's service worker: keeps the app's own files so it opens without a
// connection. API answers are never kept here (they are `no-store`): the app keeps the
// last balances itself, with the time they were fetched.
'use strict';

const CACHE = 'kks-app-v1';
const SHELL = ['/app/', '/app/app.js', '/app/app.css', '/app/manifest.webmanifest', '/app/icon-192.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// The app's files from the cache at once (a slow connection does not delay the start), and
// fetched again behind it, so the next start has any new version.
self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/app/')) {
    return;
  }
  const fresh = fetch(event.request).then(async (response) => {
    if (response.ok) await (await caches.open(CACHE)).put(event.request, response.clone());
    return response;
  });
  event.waitUntil(fresh.catch(() => undefined));
  event.respondWith(caches.match(event.request, { ignoreSearch: true })
    .then((kept) => kept || fresh)
    .catch(() => Response.error()));
});
