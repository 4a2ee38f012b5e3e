// objlen's photo editor: a Streamlit custom component (st.components.v2).
//
// Shows the photo, the mask and every object's points; the operator drags a
// point (mouse or arrow keys), clicks a region, draws a box or paints with a
// brush. Every change goes to Python as ONE trigger value, "event", with
// image-pixel coordinates (x, y): pixel (i, j) covers [i-0.5, i+0.5] x
// [j-0.5, j+0.5] of the photo, as everywhere in objlen. Python answers with
// new data; this code only draws and reports. See app_pages/photo_editor/__init__.py
// for the data it is given and objlen/workbench.py for the events.
//
// Streamlit calls the default export again with the same parentElement each
// time the data changes, so the state lives on the parent element.

const HANDLE_PX = 9;         // radius of a point's handle, CSS px
const HIT_PX = 14;           // a press this close to a handle grabs it
const LOUPE_PX = 150;        // the loupe's side, CSS px
const LOUPE_ZOOM = 8;        // CSS px per photo pixel in the loupe
const MAX_ZOOM_PX = 16;      // largest zoom: CSS px per photo pixel
const COLOURS = {A: "#e6194b", B: "#3cc84b", E: "#ffe119", C: "#aa3cff", D: "#46f0f0"};

function el(tag, attrs, parent) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  });
  if (parent) parent.appendChild(node);
  return node;
}

function loadImage(state, url) {
  if (!url) return null;
  const cached = state.images.get(url);
  if (cached) return cached;
  const img = new Image();
  img.decoding = "async";
  const entry = {img, ready: false, failed: 0};
  img.onload = () => { entry.ready = true; state.baseDirty = true; schedule(state); };
  img.onerror = () => {  // a media file may be briefly missing during a rerun: retry
    entry.failed += 1;
    if (entry.failed < 4) setTimeout(() => { img.src = url + (url.includes("?") ? "&" : "?") + "r=" + entry.failed; }, 300 * entry.failed);
  };
  img.src = url;
  state.images.set(url, entry);
  if (state.images.size > 12) state.images.delete(state.images.keys().next().value);
  return entry;
}

function schedule(state) {
  if (state.frame) return;
  state.frame = requestAnimationFrame(() => { state.frame = 0; draw(state); });
}

// ------------------------------------------------------------------ geometry
function viewScale(state) {  // CSS px per image px
  return state.fit * state.zoom;
}
function toScreen(state, p) {  // image (x, y) -> CSS px in the canvas
  const s = viewScale(state);
  return [(p[0] + 0.5 - state.cx) * s + state.w / 2, (p[1] + 0.5 - state.cy) * s + state.h / 2];
}
function toImage(state, q) {
  const s = viewScale(state);
  return [(q[0] - state.w / 2) / s + state.cx - 0.5, (q[1] - state.h / 2) / s + state.cy - 0.5];
}
function clampView(state) {
  const [W, H] = state.data.image;
  const s = viewScale(state);
  const halfW = state.w / 2 / s, halfH = state.h / 2 / s;
  state.cx = W <= 2 * halfW ? W / 2 : Math.min(Math.max(state.cx, halfW), W - halfW);
  state.cy = H <= 2 * halfH ? H / 2 : Math.min(Math.max(state.cy, halfH), H - halfH);
}
function fitView(state) {
  const [W, H] = state.data.image;
  state.fit = Math.min(state.w / W, state.h / H);
  state.zoom = 1; state.cx = W / 2; state.cy = H / 2;
}
function setZoom(state, zoom, anchor) {
  const [W] = state.data.image;
  const maxZoom = Math.max(1, MAX_ZOOM_PX / state.fit);
  const before = anchor ? toImage(state, anchor) : null;
  state.zoom = Math.min(Math.max(zoom, 1), maxZoom);
  if (before) {  // keep the image point under the cursor where it is
    const s = viewScale(state);
    state.cx = before[0] + 0.5 - (anchor[0] - state.w / 2) / s;
    state.cy = before[1] + 0.5 - (anchor[1] - state.h / 2) / s;
  }
  clampView(state);
  state.baseDirty = true;
  const scale = viewScale(state);
  state.zoomLabel.textContent = scale >= 1
    ? `1 photo px = ${scale.toFixed(1)} screen px` : `1 screen px = ${(1 / scale).toFixed(1)} photo px`;
  schedule(state);
  if (W && viewScale(state) > state.displayScale) ensureFull(state);
}
function ensureFull(state) {
  if (state.data.layers.full) loadImage(state, state.data.layers.full);
}

// ------------------------------------------------------------------ points
function objectsOf(state) { return state.local.objects; }
function selectedObject(state) { return objectsOf(state)[state.local.selected]; }
function handles(state) {
  const out = [];
  const obj = selectedObject(state);
  if (obj && state.data.mode === "points") ["A", "B", "E"].forEach((n) => out.push({name: n, p: obj[n], object: obj.index}));
  const ref = state.local.reference;
  if (ref && ref.movable && state.data.mode === "points") ["C", "D"].forEach((n) => { if (ref[n]) out.push({name: n, p: ref[n], object: null}); });
  return out;
}
function pointOf(state, name) {
  if (name === "C" || name === "D") return state.local.reference && state.local.reference[name];
  const obj = selectedObject(state);
  return obj ? obj[name] : null;
}
function setPoint(state, name, p) {
  if (name === "C" || name === "D") state.local.reference[name] = p;
  else selectedObject(state)[name] = p;
}
function insideObject(obj, p) {  // point inside the parallelogram A, B, B+E-A, E
  const ux = obj.B[0] - obj.A[0], uy = obj.B[1] - obj.A[1];
  const vx = obj.E[0] - obj.A[0], vy = obj.E[1] - obj.A[1];
  const det = ux * vy - uy * vx;
  if (Math.abs(det) < 1e-9) return false;
  const px = p[0] - obj.A[0], py = p[1] - obj.A[1];
  const a = (px * vy - py * vx) / det, b = (ux * py - uy * px) / det;
  return a >= 0 && a <= 1 && b >= 0 && b <= 1;
}

// ------------------------------------------------------------------ events
function send(state, event) {
  state.seq += 1;
  event.seq = `${state.session}-${state.seq}`;
  state.sentAt = performance.now();
  state.status.textContent = "…";
  state.setTriggerValue("event", event);
}
function sendMove(state, name) {
  const p = pointOf(state, name);
  if (!p) return;
  const obj = selectedObject(state);
  send(state, {type: "move", point: name, object: obj ? obj.index : 0,
               x: Math.round(p[0] * 1000) / 1000, y: Math.round(p[1] * 1000) / 1000});
}

// ------------------------------------------------------------------ drawing
function drawBase(state) {
  const ctx = state.baseCtx, dpr = state.dpr;
  const canvas = state.base;
  if (canvas.width !== state.canvas.width || canvas.height !== state.canvas.height) {
    canvas.width = state.canvas.width; canvas.height = state.canvas.height;
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#1e1e1e";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const [W, H] = state.data.image;
  const s = viewScale(state) * dpr;
  const full = state.data.layers.full && state.images.get(state.data.layers.full);
  const display = loadImage(state, state.data.layers.photo);
  const useFull = full && full.ready && viewScale(state) > state.displayScale * 1.05;
  const source = useFull ? full.img : (display && display.ready ? display.img : null);
  // the visible window of the photo, in image pixel edges
  const x0 = state.cx - state.w / 2 / viewScale(state), y0 = state.cy - state.h / 2 / viewScale(state);
  const place = (img, smooth, alpha) => {
    if (!img) return;
    const kx = img.naturalWidth / W, ky = img.naturalHeight / H;
    ctx.imageSmoothingEnabled = smooth;
    ctx.globalAlpha = alpha;
    ctx.setTransform(s / kx, 0, 0, s / ky, -x0 * s, -y0 * s);
    ctx.drawImage(img, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
  };
  place(source, viewScale(state) < 2, 1);
  const mask = loadImage(state, state.data.layers.mask);
  if (mask && mask.ready) place(mask.img, false, 1);
  state.baseDirty = false;
}

function line(ctx, p, q, width, colour) {
  ctx.lineCap = "round";
  ctx.strokeStyle = "rgba(20,20,20,0.9)"; ctx.lineWidth = width + 2;
  ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
  ctx.strokeStyle = colour; ctx.lineWidth = width;
  ctx.beginPath(); ctx.moveTo(p[0], p[1]); ctx.lineTo(q[0], q[1]); ctx.stroke();
}
function chip(ctx, text, at, colour) {
  ctx.font = "600 12px sans-serif";
  const w = ctx.measureText(text).width + 8;
  ctx.fillStyle = "rgba(20,20,20,0.8)";
  ctx.fillRect(at[0] - w / 2, at[1] - 9, w, 18);
  ctx.fillStyle = colour; ctx.textAlign = "center"; ctx.textBaseline = "middle";
  ctx.fillText(text, at[0], at[1] + 0.5);
}
function handle(ctx, name, q, active) {
  ctx.beginPath(); ctx.arc(q[0], q[1], HANDLE_PX, 0, 2 * Math.PI);
  ctx.fillStyle = COLOURS[name] + "55"; ctx.fill();
  ctx.lineWidth = active ? 3 : 2; ctx.strokeStyle = COLOURS[name]; ctx.stroke();
  ctx.beginPath(); ctx.arc(q[0], q[1], 1.5, 0, 2 * Math.PI); ctx.fillStyle = "#fff"; ctx.fill();
  ctx.font = "bold 12px sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "bottom";
  ctx.lineWidth = 3; ctx.strokeStyle = "#141414"; ctx.strokeText(name, q[0] + HANDLE_PX, q[1] - HANDLE_PX + 2);
  ctx.fillStyle = COLOURS[name]; ctx.fillText(name, q[0] + HANDLE_PX, q[1] - HANDLE_PX + 2);
}

function draw(state) {
  if (!state.data) return;
  const ctx = state.ctx, dpr = state.dpr;
  if (state.baseDirty) drawBase(state);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(state.base, 0, 0);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const points = state.data.mode === "points";
  objectsOf(state).forEach((obj, i) => {
    const selected = i === state.local.selected;
    const a = toScreen(state, obj.A), b = toScreen(state, obj.B), e = toScreen(state, obj.E);
    const f = [b[0] + e[0] - a[0], b[1] + e[1] - a[1]];
    ctx.setLineDash([4, 4]);
    line(ctx, b, f, 1, "rgba(255,255,255,0.7)"); line(ctx, e, f, 1, "rgba(255,255,255,0.7)");
    ctx.setLineDash([]);
    line(ctx, a, b, selected ? 2 : 1.5, selected ? "#ffffff" : "rgba(255,255,255,0.85)");
    line(ctx, a, e, selected ? 2 : 1.5, selected ? "#ffffff" : "rgba(255,255,255,0.85)");
    chip(ctx, obj.label, [(a[0] + f[0]) / 2, (a[1] + f[1]) / 2], selected ? "#ffe119" : "#ffffff");
  });
  const ref = state.local.reference;
  if (ref) {
    if (ref.corners) {
      ctx.beginPath();
      ref.corners.forEach((c, k) => { const q = toScreen(state, c); if (k) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]); });
      ctx.closePath(); ctx.lineWidth = 2; ctx.strokeStyle = "#1e78ff"; ctx.stroke();
    }
    if (ref.C && ref.D) line(ctx, toScreen(state, ref.C), toScreen(state, ref.D), 2, "#d0b0ff");
    if (!points || !ref.movable) ["C", "D"].forEach((n) => {
      if (!ref[n]) return;
      const q = toScreen(state, ref[n]);
      ctx.beginPath(); ctx.arc(q[0], q[1], 4, 0, 2 * Math.PI); ctx.fillStyle = COLOURS[n]; ctx.fill();
    });
  }
  handles(state).forEach((h) => handle(ctx, h.name, toScreen(state, h.p), h.name === state.active));
  if (state.drag && state.drag.kind === "box") {
    const [p, q] = [toScreen(state, state.drag.start), toScreen(state, state.drag.now)];
    ctx.setLineDash([6, 4]); ctx.lineWidth = 2; ctx.strokeStyle = "#ffe119";
    ctx.strokeRect(Math.min(p[0], q[0]), Math.min(p[1], q[1]), Math.abs(q[0] - p[0]), Math.abs(q[1] - p[1]));
    ctx.setLineDash([]);
  }
  if (state.drag && state.drag.kind === "stroke") {
    const r = state.data.brush.radius * viewScale(state);
    ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.lineWidth = 2 * r;
    ctx.strokeStyle = state.data.brush.colour;
    ctx.beginPath();
    state.drag.points.forEach((p, k) => { const q = toScreen(state, p); if (k) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]); });
    if (state.drag.points.length === 1) { const q = toScreen(state, state.drag.points[0]); ctx.lineTo(q[0] + 0.01, q[1]); }
    ctx.stroke();
  }
  if (state.data.mode === "brush" && state.hover) {
    const q = toScreen(state, state.hover);
    ctx.beginPath(); ctx.arc(q[0], q[1], state.data.brush.radius * viewScale(state), 0, 2 * Math.PI);
    ctx.lineWidth = 1.5; ctx.strokeStyle = "#ffffff"; ctx.stroke();
  }
  drawLoupe(state);
}

function drawLoupe(state) {
  const name = state.active;
  const p = name ? pointOf(state, name) : null;
  const show = p && state.data.mode === "points" && (state.drag || state.showLoupe);
  state.loupeBox.style.display = show ? "block" : "none";
  if (!show) return;
  const ctx = state.loupeCtx, dpr = state.dpr;
  const size = LOUPE_PX * dpr, k = LOUPE_ZOOM * dpr;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, size, size);
  const [W, H] = state.data.image;
  const full = state.data.layers.full ? loadImage(state, state.data.layers.full) : null;
  const display = loadImage(state, state.data.layers.photo);
  const src = full && full.ready ? full.img : (display && display.ready ? display.img : null);
  if (src) {
    const kx = src.naturalWidth / W, ky = src.naturalHeight / H;
    // photo pixel edges around p: the point's pixel centre maps to the loupe's centre
    const left = p[0] + 0.5 - size / 2 / k, top = p[1] + 0.5 - size / 2 / k;
    ctx.imageSmoothingEnabled = false;
    ctx.setTransform(k / kx, 0, 0, k / ky, -left * k, -top * k);
    ctx.drawImage(src, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  }
  ctx.strokeStyle = COLOURS[name] || "#fff"; ctx.lineWidth = dpr;
  ctx.beginPath(); ctx.moveTo(size / 2, 0); ctx.lineTo(size / 2, size); ctx.moveTo(0, size / 2); ctx.lineTo(size, size / 2); ctx.stroke();
  ctx.strokeStyle = "#fff"; ctx.strokeRect(size / 2 - k / 2, size / 2 - k / 2, k, k);
  state.loupeLabel.textContent = `${name} ${p[0].toFixed(1)}, ${p[1].toFixed(1)} px`;
  // keep the loupe away from the point
  const q = toScreen(state, p);
  state.loupeBox.style.left = q[0] < state.w / 2 ? "auto" : "6px";
  state.loupeBox.style.right = q[0] < state.w / 2 ? "6px" : "auto";
}

// ------------------------------------------------------------------ pointer
function localPos(state, ev) {
  const rect = state.canvas.getBoundingClientRect();
  return [ev.clientX - rect.left, ev.clientY - rect.top];
}
function onDown(state, ev) {
  if (!state.data) return;
  state.canvas.focus();
  const q = localPos(state, ev), p = toImage(state, q);
  state.canvas.setPointerCapture(ev.pointerId);
  const mode = state.data.mode;
  if (ev.button === 1 || ev.button === 2 || state.spaceDown) {
    state.drag = {kind: "pan", from: q, cx: state.cx, cy: state.cy}; return;
  }
  if (mode === "points") {
    let best = null, bestD = HIT_PX;
    handles(state).forEach((h) => {
      const s = toScreen(state, h.p), d = Math.hypot(s[0] - q[0], s[1] - q[1]);
      if (d <= bestD) { best = h; bestD = d; }
    });
    if (best) {
      state.active = best.name; state.showLoupe = true;
      const s = toScreen(state, best.p);
      state.drag = {kind: "point", name: best.name, offset: [s[0] - q[0], s[1] - q[1]], moved: false, from: q};
      ensureFull(state); schedule(state); return;
    }
    const objs = objectsOf(state);
    let hit = -1, area = Infinity;
    objs.forEach((obj, i) => {
      if (!insideObject(obj, p)) return;
      const a = Math.abs((obj.B[0] - obj.A[0]) * (obj.E[1] - obj.A[1]) - (obj.B[1] - obj.A[1]) * (obj.E[0] - obj.A[0]));
      if (a < area) { area = a; hit = i; }
    });
    if (hit >= 0 && hit !== state.local.selected) {
      state.local.selected = hit; state.active = null; state.showLoupe = false;
      send(state, {type: "select", object: objs[hit].index}); schedule(state); return;
    }
    state.drag = {kind: "pan", from: q, cx: state.cx, cy: state.cy}; return;
  }
  if (mode === "box") { state.drag = {kind: "box", start: p, now: p}; return; }
  if (mode === "brush") { state.drag = {kind: "stroke", points: [p]}; schedule(state); return; }
  state.drag = {kind: "click", from: q, p};
}
function onMove(state, ev) {
  if (!state.data) return;
  const q = localPos(state, ev), p = toImage(state, q);
  state.hover = p;
  const drag = state.drag;
  if (!drag) { if (state.data.mode === "brush") schedule(state); return; }
  if (drag.kind === "pan") {
    const s = viewScale(state);
    state.cx = drag.cx - (q[0] - drag.from[0]) / s; state.cy = drag.cy - (q[1] - drag.from[1]) / s;
    clampView(state); state.baseDirty = true;
  } else if (drag.kind === "point") {
    const target = toImage(state, [q[0] + drag.offset[0], q[1] + drag.offset[1]]);
    const [W, H] = state.data.image;
    target[0] = Math.min(Math.max(target[0], -0.5), W - 0.5);
    target[1] = Math.min(Math.max(target[1], -0.5), H - 0.5);
    if (Math.hypot(q[0] - drag.from[0], q[1] - drag.from[1]) > 0.5) drag.moved = true;
    setPoint(state, drag.name, target);
  } else if (drag.kind === "box") {
    drag.now = p;
  } else if (drag.kind === "stroke") {
    const last = drag.points[drag.points.length - 1];
    const step = Math.max(0.5, state.data.brush.radius / 3);
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= step) drag.points.push(p);
  }
  schedule(state);
}
function onUp(state, ev) {
  const drag = state.drag;
  state.drag = null;
  if (!drag || !state.data) return;
  const [W, H] = state.data.image;
  if (drag.kind === "point" && drag.moved) sendMove(state, drag.name);
  else if (drag.kind === "box") {
    const x = Math.max(-0.5, Math.min(drag.start[0], drag.now[0])) + 0.5;
    const y = Math.max(-0.5, Math.min(drag.start[1], drag.now[1])) + 0.5;
    const x1 = Math.min(W, Math.max(drag.start[0], drag.now[0]) + 0.5);
    const y1 = Math.min(H, Math.max(drag.start[1], drag.now[1]) + 0.5);
    if (x1 - x >= 4 && y1 - y >= 4) send(state, {type: "box", x, y, w: x1 - x, h: y1 - y});
    else state.status.textContent = "Draw the box around the whole object (drag from corner to corner).";
  } else if (drag.kind === "stroke") {
    send(state, {type: "stroke", brush: state.data.brush.name, radius: state.data.brush.radius,
                 points: drag.points.map((p) => [Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100])});
  } else if (drag.kind === "click") {
    const q = localPos(state, ev);
    if (Math.hypot(q[0] - drag.from[0], q[1] - drag.from[1]) < 6 && state.data.mode === "choose") {
      send(state, {type: "role", role: state.data.role, x: drag.p[0], y: drag.p[1]});
    }
  }
  schedule(state);
}
function onWheel(state, ev) {
  if (!state.data) return;
  ev.preventDefault();
  const factor = Math.exp(-ev.deltaY * 0.0015);
  setZoom(state, state.zoom * factor, localPos(state, ev));
}
function onKey(state, ev) {
  if (!state.data) return;
  const key = ev.key;
  if (key === " ") { state.spaceDown = ev.type === "keydown"; ev.preventDefault(); return; }
  if (ev.type !== "keydown") return;
  if (key === "+" || key === "=") { setZoom(state, state.zoom * 1.5, state.active && pointOf(state, state.active) ? toScreen(state, pointOf(state, state.active)) : null); ev.preventDefault(); return; }
  if (key === "-" || key === "_") { setZoom(state, state.zoom / 1.5, null); ev.preventDefault(); return; }
  if (key === "0") { fitView(state); setZoom(state, 1, null); ev.preventDefault(); return; }
  if (state.data.mode !== "points") return;
  const upper = key.length === 1 ? key.toUpperCase() : "";
  if ("ABECD".includes(upper) && upper && pointOf(state, upper)) {
    state.active = upper; state.showLoupe = true; ensureFull(state); schedule(state); ev.preventDefault(); return;
  }
  if (key === "Escape") { state.showLoupe = false; state.active = null; schedule(state); return; }
  const steps = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
  if (!(key in steps) || !state.active) return;
  const p = pointOf(state, state.active);
  if (!p) return;
  ev.preventDefault();
  const step = ev.shiftKey ? 10 : 1;
  const [W, H] = state.data.image;
  const moved = [Math.min(Math.max(p[0] + steps[key][0] * step, -0.5), W - 0.5),
                 Math.min(Math.max(p[1] + steps[key][1] * step, -0.5), H - 0.5)];
  setPoint(state, state.active, moved);
  state.showLoupe = true;
  schedule(state);
  sendMove(state, state.active);
}

// ------------------------------------------------------------------ layout
function layout(state) {
  const width = Math.max(200, Math.floor(state.wrap.clientWidth || 600));
  const [W, H] = state.data.image;
  const top = state.wrap.getBoundingClientRect().top + window.scrollY;
  const room = Math.max(state.data.min_height || 260, window.innerHeight - top - (state.data.bottom_margin || 24) - 34);
  const height = Math.floor(Math.min(room, width * H / W, state.data.max_height || 4000));
  const w = Math.floor(Math.min(width, height * W / H));
  const dpr = window.devicePixelRatio || 1;
  if (w === state.w && height === state.h && dpr === state.dpr) return false;
  const keepZoom = state.w ? state.zoom : 1;
  state.w = w; state.h = height; state.dpr = dpr;
  state.canvas.style.width = `${w}px`; state.canvas.style.height = `${height}px`;
  state.canvas.width = Math.round(w * dpr); state.canvas.height = Math.round(height * dpr);
  state.loupe.width = LOUPE_PX * dpr; state.loupe.height = LOUPE_PX * dpr;
  state.fit = Math.min(w / W, height / H);
  state.displayScale = state.data.layers.photo_size ? state.data.layers.photo_size[0] / W : 1;
  state.zoom = keepZoom;
  setZoom(state, keepZoom, null);
  return true;
}

function build(parentElement, setTriggerValue) {
  const root = el("div", {class: "objlen-editor"}, parentElement);
  const bar = el("div", {class: "objlen-bar"}, root);
  const zoomOut = el("button", {type: "button", "aria-label": "Zoom out", title: "Zoom out (−)", text: "−"}, bar);
  const zoomIn = el("button", {type: "button", "aria-label": "Zoom in", title: "Zoom in (+, or the mouse wheel)", text: "+"}, bar);
  const zoomFit = el("button", {type: "button", "aria-label": "Fit the photo", title: "Whole photo (0)", text: "Fit"}, bar);
  const zoomLabel = el("span", {class: "objlen-zoom", "data-testid": "objlen-zoom"}, bar);
  const status = el("span", {class: "objlen-status", "data-testid": "objlen-status"}, bar);
  const wrap = el("div", {class: "objlen-wrap"}, root);
  const hint = el("div", {class: "objlen-hint", "data-testid": "objlen-hint"}, root);
  const canvas = el("canvas", {class: "objlen-canvas", tabindex: "0", "data-testid": "objlen-canvas",
                               "aria-label": "The photo: drag a point, or use the arrow keys"}, wrap);
  const loupeBox = el("div", {class: "objlen-loupe", "data-testid": "objlen-loupe"}, wrap);
  const loupe = el("canvas", {}, loupeBox);
  const loupeLabel = el("div", {class: "objlen-loupe-label"}, loupeBox);
  const base = document.createElement("canvas");
  const state = {
    root, wrap, canvas, ctx: canvas.getContext("2d"), base, baseCtx: base.getContext("2d"),
    loupe, loupeCtx: loupe.getContext("2d"), loupeBox, loupeLabel, zoomLabel, hint, status,
    images: new Map(), seq: 0, session: Math.random().toString(36).slice(2, 8),
    zoom: 1, fit: 1, cx: 0, cy: 0, w: 0, h: 0, dpr: 1, baseDirty: true, setTriggerValue,
    active: null, showLoupe: false, drag: null, version: null, local: null,
  };
  zoomIn.onclick = () => setZoom(state, state.zoom * 1.5, state.active && pointOf(state, state.active) ? toScreen(state, pointOf(state, state.active)) : null);
  zoomOut.onclick = () => setZoom(state, state.zoom / 1.5, null);
  zoomFit.onclick = () => { fitView(state); setZoom(state, 1, null); };
  canvas.addEventListener("pointerdown", (ev) => onDown(state, ev));
  canvas.addEventListener("pointermove", (ev) => onMove(state, ev));
  canvas.addEventListener("pointerup", (ev) => onUp(state, ev));
  canvas.addEventListener("pointercancel", () => { state.drag = null; schedule(state); });
  canvas.addEventListener("pointerleave", () => { state.hover = null; schedule(state); });
  canvas.addEventListener("contextmenu", (ev) => ev.preventDefault());
  canvas.addEventListener("wheel", (ev) => onWheel(state, ev), {passive: false});
  canvas.addEventListener("keydown", (ev) => onKey(state, ev));
  canvas.addEventListener("keyup", (ev) => onKey(state, ev));
  state.resize = () => { if (state.data && layout(state)) { state.baseDirty = true; schedule(state); } };
  window.addEventListener("resize", state.resize);
  if (window.ResizeObserver) { state.observer = new ResizeObserver(state.resize); state.observer.observe(wrap); }
  return state;
}

export default function (component) {
  const {data, parentElement, setTriggerValue} = component;
  let state = parentElement.__objlenEditor;
  if (!state) state = parentElement.__objlenEditor = build(parentElement, setTriggerValue);
  state.setTriggerValue = setTriggerValue;
  if (!data || !data.image) return;
  const previous = state.data;
  state.data = data;
  if (!previous || previous.version !== data.version) {
    state.local = {objects: JSON.parse(JSON.stringify(data.objects || [])),
                   reference: data.reference ? JSON.parse(JSON.stringify(data.reference)) : null,
                   selected: Math.min(data.selected || 0, Math.max(0, (data.objects || []).length - 1))};
    if (state.sentAt) {
      state.status.textContent = `updated in ${Math.round(performance.now() - state.sentAt)} ms`;
      state.sentAt = 0;
    } else state.status.textContent = "";
    if (state.active && !pointOf(state, state.active)) { state.active = null; state.showLoupe = false; }
  }
  if (!previous || previous.image[0] !== data.image[0] || previous.image[1] !== data.image[1] || previous.photo_id !== data.photo_id) {
    state.w = 0; state.zoom = 1; state.cx = data.image[0] / 2; state.cy = data.image[1] / 2;
    state.active = null; state.showLoupe = false;
  }
  if (!previous || previous.layers.photo !== data.layers.photo || previous.layers.mask !== data.layers.mask) state.baseDirty = true;
  state.hint.textContent = data.hint || "";
  state.canvas.dataset.mode = data.mode;
  layout(state);
  loadImage(state, data.layers.photo);
  loadImage(state, data.layers.mask);
  if (data.layers.full && !state.fullTimer) state.fullTimer = setTimeout(() => { state.fullTimer = 0; ensureFull(state); }, 800);
  schedule(state);
  state.root.dataset.version = String(data.version);
  return () => {
    window.removeEventListener("resize", state.resize);
    if (state.observer) state.observer.disconnect();
    delete parentElement.__objlenEditor;
  };
}
