// Served by the KKS server itself: no script or style comes from elsewhere.
const text = (tag, content, className) => {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
};
fetch('/openapi.json').then(response => response.json()).then(spec => {
  document.getElementById('intro').textContent = spec.info.description + ' (version ' + spec.info.version + ')';
  const byTag = new Map((spec.tags || []).map(tag => [tag.name, { tag, operations: [] }]));
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      const tag = (operation.tags || ['other'])[0];
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, operations: [] });
      byTag.get(tag).operations.push({ path, method, operation });
    }
  }
  const root = document.getElementById('operations');
  for (const { tag, operations } of byTag.values()) {
    if (operations.length === 0) continue;
    root.appendChild(text('h2', tag.name));
    if (tag.description) root.appendChild(text('p', tag.description));
    for (const { path, method, operation } of operations) {
      const box = document.createElement('div');
      box.className = 'operation';
      box.appendChild(text('span', method, 'method ' + method));
      box.appendChild(text('code', path));
      if (operation.security) box.appendChild(text('span', '  🔒 bearer token', 'lock'));
      if (operation.summary) box.appendChild(text('p', operation.summary, 'description'));
      if (operation.description) box.appendChild(text('p', operation.description, 'description'));
      root.appendChild(box);
    }
  }
  const codes = ((spec.components.schemas.ErrorCode || {}).enum || []).join(', ');
  document.getElementById('codes').textContent = codes;
}).catch(error => { document.getElementById('intro').textContent = 'Could not load the API description: ' + error; });
