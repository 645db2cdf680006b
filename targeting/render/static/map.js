// The Core20PLUS map: LSOA layers, overlays, layer menu and legend, drawn from one payload (P) on a Leaflet
// map. Every string in P that came from data is HTML-escaped in Python before it gets here.
//
// Numbers come packed in strings (targeting/render/_pack.py): five bits per character, a sixth meaning "more
// follows". Geometry comes as a topology (targeting/render/topology.py): shared arcs of quantised, delta-encoded
// points; each polygon ring is a list of arcs, so neighbouring LSOAs meet exactly.
var C20_DIGITS = (function(){ var a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', d = {};
  for (var i = 0; i < a.length; i++) { d[a.charCodeAt(i)] = i; } return d; })();
function c20Unpack(s, signed){
  var out = [], v = 0, mul = 1;
  for (var i = 0; i < s.length; i++) {
    var c = C20_DIGITS[s.charCodeAt(i)];
    v += (c & 31) * mul; mul *= 32;
    if (!(c & 32)) { out.push(signed ? (v % 2 ? -(v + 1) / 2 : v / 2) : v); v = 0; mul = 1; }
  }
  return out;
}
function c20Values(s, decimals){  // 0 = no data, else a zigzagged integer plus one
  var f = Math.pow(10, decimals || 0);
  return c20Unpack(s).map(function(z){ if (!z) { return null; } z -= 1;
    return (z % 2 ? -(z + 1) / 2 : z / 2) / f; });
}
function c20Arcs(T){  // each arc's points as [lng, lat]
  var n = c20Unpack(T.n), d = c20Unpack(T.d, true), x = 0, y = 0, k = 0, arcs = [];
  n.forEach(function(len){ var a = [];
    for (var j = 0; j < len; j++, k += 2) { x += d[k]; y += d[k + 1];
      a.push([T.q[0] + x * T.q[2], T.q[1] + y * T.q[2]]); }
    arcs.push(a); });
  return arcs;
}
function c20Polygons(T, arcs){  // one MultiPolygon coordinates array per feature
  var pf = c20Unpack(T.pf), pr = c20Unpack(T.pr), pa = c20Unpack(T.pa), pi = c20Unpack(T.pi);
  var ip = 0, ir = 0, ia = 0, prev = 0;
  function ring(){ var pts = [];
    for (var j = pa[ir++]; j > 0; j--) { var c = pi[ia++], z = Math.floor(c / 2);
      prev += (z % 2 ? -(z + 1) / 2 : z / 2);
      var a = (c % 2) ? arcs[prev].slice().reverse() : arcs[prev];
      pts = pts.length ? pts.concat(a.slice(1)) : a.slice(); }
    return pts; }
  return pf.map(function(np){ var polys = [];
    for (var j = 0; j < np; j++) { var rings = [];
      for (var r = pr[ip++]; r > 0; r--) { rings.push(ring()); }
      polys.push(rings); }
    return polys; });
}
function c20Lines(arcs, packed){  // an outline: the arcs whose (packed, differenced) indices are given
  var i = 0; return c20Unpack(packed).map(function(dx){ i += dx; return arcs[i]; });
}
function c20Drawn(){
  // in the app (a Streamlit component's frame), say once that the map is drawn: on a cold link the page sends its
  // figures and tables only then, so the browser draws the map first (see app_pages/explore.py)
  try { if (window.parent !== window && !window.c20Told) { window.c20Told = 1;
    window.parent.postMessage({isStreamlitMessage: true, type: 'streamlit:setComponentValue',
                               value: {last_active_drawing: null, c20_drawn: 1}, dataType: 'json'}, '*'); } }
  catch (e) {}
}
function c20Phone(){  // a phone-sized window (below 768 px wide): in the app, the page's window, not the map's frame
  var w = window.innerWidth; try { if (window.top !== window) { w = window.top.innerWidth; } } catch (e) {}
  return w < 768;
}
function c20Map(map, P) {
  // with no tile layer the map has no maxZoom, which Leaflet.markercluster requires
  if (map.options.maxZoom === undefined) { map.setMaxZoom(18); }
  // Leaflet focuses the map on mousedown (for its arrow keys), and focusing scrolls every scrolling ancestor to
  // show the whole frame: in the app, a map taller than the space left below it scrolled the page under the
  // pointer between mousedown and mouseup (66 px at 1400×900), so the click landed on no LSOA and was lost.
  // The map is focused without scrolling; the keyboard still reaches it (Tab scrolls it into view as it should).
  if (map.keyboard) { var kb = map.keyboard, on = kb.enabled(); if (on) { kb.disable(); }
    kb._onMouseDown = function(){ if (!this._focused) { this._map.getContainer().focus({preventScroll: true}); } };
    if (on) { kb.enable(); } }
  // tooltips above the layer panel and the legend: Leaflet draws them in a pane inside the map pane, whose
  // stacking context sits under the controls, so a tooltip beside the legend was drawn under it. This pane lies
  // in the map's container above the controls and follows the map pane's position.
  var tipPane = map.getPane('c20tips') || map.createPane('c20tips', map.getContainer());
  tipPane.style.zIndex = 1100; tipPane.style.pointerEvents = 'none';
  function followPane(){ L.DomUtil.setPosition(tipPane, L.DomUtil.getPosition(map.getPane('mapPane'))); }
  map.on('move zoom viewreset resize zoomanim zoomend moveend', followPane); followPane();
  // zoom in fine steps, so an area is fitted to its frame rather than to the whole zoom level below
  map.options.zoomSnap = 0.1; map.options.zoomDelta = 0.5;
  var TIP = {pane: 'c20tips'};
  var byKey = {}; P.layers.forEach(function(L){ byKey[L.key] = L; });
  var cur = byKey[P.initial];
  var Q = P.props, lads = Q.lads, lad = c20Unpack(Q.l), codes;
  if (Q.cp) { var num = 0; codes = c20Unpack(Q.c, true).map(function(dx){ num += dx;
    return Q.cp + ('000000' + num).slice(-6); }); } else { codes = Q.c; }
  var num0 = {d25: c20Values(Q.d25), d19: c20Values(Q.d19), r: c20Values(Q.r), m: c20Values(Q.m, 1),
              g: c20Values(Q.g)};
  var amb = {}; (Q.am || []).forEach(function(i){ amb[i] = 1; });  // ambiguous merges (IMD 2019), hatched
  function hatched(i){ return cur.key === Q.amk && amb[i] === 1; }
  function name(i){ var n = Q.n[i]; return n.charAt(0) === '+' ? lads[lad[i]] + ' ' + n.slice(1) : n; }
  function value(L, i){
    if (L.v !== undefined) { if (!L.vals) { L.vals = c20Values(L.v, L.s); } return L.vals[i]; }
    var ch = L.cls.charAt(i); return ch === '-' ? null : +ch + L.vc;
  }
  var only = null;  // the legend class picked out, if any: the other LSOAs fade
  function style(f){
    var ch = cur.cls.charAt(f.properties.i);
    var fill = ch === '-' ? P.nodata : hatched(f.properties.i) ? 'url(#c20-am-' + ch + ')'
             : (cur.pat && cur.pat[+ch]) ? 'url(#c20-' + cur.key + '-' + ch + ')' : cur.pal[+ch];
    if (only !== null) { return ch === only ? {fillColor: fill, fillOpacity: 0.9, color: '@c20-ink@', weight: 1.2, opacity: 1}
                                            : {fillColor: fill, fillOpacity: 0.07, color: '@c20-faded-edge@', weight: 0.4,
                                               opacity: 0.5}; }
    return {fillColor: fill, fillOpacity: 0.72, color: '@c20-edge@', weight: 0.4, opacity: 0.8};
  }
  function pick(k){  // pick out legend class k (again: show every class)
    only = k === only ? null : k;
    geo.setStyle(style);
    if (over.core20 && map.hasLayer(over.core20)) { over.core20.bringToFront(); }
    map.getContainer().setAttribute('data-picked', only === null ? '' : only);
    markLegend();
  }
  function markLegend(){
    if (!legendDiv) { return; }
    var group = legendDiv.querySelector('.c20-classes');
    if (group && !group.hasAttribute('role')) {  // a fresh legend: a labelled group of toggle buttons
      group.setAttribute('role', 'group'); group.setAttribute('aria-label', 'Pick out one class');
      group.querySelectorAll('button.c20-class').forEach(function(b, k){  // the n-th button is class n
        if (!b.hasAttribute('data-k')) { b.setAttribute('data-k', String(k)); } });
      var said0 = document.createElement('div'); said0.className = 'c20-picked';
      said0.setAttribute('aria-live', 'polite'); group.parentNode.insertBefore(said0, group.nextSibling); }
    var said = 'Select a class to pick out its LSOAs.';
    legendDiv.querySelectorAll('button.c20-class').forEach(function(b){
      var on = b.getAttribute('data-k') === only; b.type = 'button';
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      if (on) { var n = 0; for (var i = 0; i < cur.cls.length; i++) { if (cur.cls.charAt(i) === only) { n++; } }
        said = 'Showing ' + n.toLocaleString('en-GB') + ' LSOA' + (n === 1 ? '' : 's') + ' in “' +
               b.textContent + '”; the rest are faded. Select it again to show all.'; } });
    var live = legendDiv.querySelector('.c20-picked'); if (live) { live.textContent = said; }
  }
  function patterns(){
    // SVG fill patterns (stripes, dots) for layers whose classes must read without colour
    var svg = map.getPanes().overlayPane.querySelector('svg');
    if (!svg || svg.querySelector('defs.c20-defs')) { return; }
    var ns = 'http://www.w3.org/2000/svg', defs = document.createElementNS(ns, 'defs');
    defs.setAttribute('class', 'c20-defs');
    function el(tag, attrs, parent){ var e = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function(k){ e.setAttribute(k, attrs[k]); }); parent.appendChild(e); return e; }
    P.layers.forEach(function(Ly){ if (!Ly.pat) { return; }
      Ly.pat.forEach(function(kind, k){ if (!kind) { return; }
        var pt = el('pattern', {id: 'c20-' + Ly.key + '-' + k, patternUnits: 'userSpaceOnUse', width: 7, height: 7,
                                patternTransform: kind === 'stripes' ? 'rotate(45)' : ''}, defs);
        el('rect', {width: 7, height: 7, fill: Ly.pal[k]}, pt);
        if (kind === 'stripes') { el('rect', {x: 0, y: 0, width: 2.5, height: 7, fill: '@c20-paper@'}, pt); }
        else { el('circle', {cx: 3.5, cy: 3.5, r: 1.6, fill: '@c20-paper@'}, pt); }
      }); });
    if (Q.am && byKey[Q.amk]) {  // the hatch of an ambiguous merge over each IMD 2019 decile's colour
      byKey[Q.amk].pal.forEach(function(c, k){
        var pt = el('pattern', {id: 'c20-am-' + k, patternUnits: 'userSpaceOnUse', width: 8, height: 8,
                                patternTransform: 'rotate(-45)'}, defs);
        el('rect', {width: 8, height: 8, fill: c}, pt);
        el('rect', {x: 0, y: 0, width: 1.6, height: 8, fill: '@c20-ink@'}, pt);
        el('rect', {x: 1.6, y: 0, width: 1.6, height: 8, fill: '@c20-paper@'}, pt); }); }
    svg.insertBefore(defs, svg.firstChild);
  }
  function fmt(v){ return (v === null || v === undefined) ? 'no data' : v.toLocaleString('en-GB'); }
  function tip(l){
    var i = l.feature.properties.i, v = value(cur, i);
    var val = cur.flag ? (v === null ? 'no data' : cur.flag[v]) : fmt(v) + ' ' + cur.units;
    return '<b>' + name(i) + '</b> (' + codes[i] + ')<br>' + lads[lad[i]] +
      '<br>IMD 2025 decile ' + fmt(num0.d25[i]) + ' · IMD 2019 decile ' + fmt(num0.d19[i]) +
      (Q.k.charAt(i) === '1' ? '<br><b>Core20</b> (IMD ' + P.imd + ' deciles 1–2)' : '') +
      '<br>Residents (Census 2021): ' + fmt(num0.r[i]) + ' · ethnic minority ' + fmt(num0.m[i]) + '%' +
      '<br>Registered patients (July 2022): ' + fmt(num0.g[i]) +
      (amb[i] === 1 ? '<br>Merged from LSOA 2011s on both sides of the IMD 2019 Core20 line: its IMD 2019 ' +
                      'decile is that of its most populous part' : '') +
      '<br><i>' + cur.label + ':</i> ' + val;
  }
  var arcs = c20Arcs(P.topo);
  var features = c20Polygons(P.topo, arcs).map(function(coords, i){
    return {type: 'Feature', properties: {i: i, c: codes[i]}, geometry: {type: 'MultiPolygon', coordinates: coords}};
  });
  var geo = L.geoJson({type: 'FeatureCollection', features: features}, {style: style, onEachFeature: function(f, l){
    l.bindTooltip(function(){ return tip(l); }, {sticky: true, direction: 'auto', pane: 'c20tips'});
    l.on('mouseover', function(){ l.setStyle({weight: 2.5, color: '@c20-ink@'}); });
    l.on('mouseout', function(){ geo.resetStyle(l); });
  }}).addTo(map);
  patterns();
  function outline(ov, own){  // a GeoJSON feature collection of an overlay's outlines
    var A = own ? c20Arcs(ov.topo) : arcs;
    return {type: 'FeatureCollection', features: ov.lines.map(function(ln){
      return {type: 'Feature', properties: ln, geometry: {type: 'MultiLineString', coordinates: c20Lines(A, ln.a)}};
    })};
  }
  var over = {};
  var O = P.overlays;
  function core20W(){ var z = map.getZoom(); return z <= 10 ? 0.8 : z <= 11 ? 1.2 : z <= 12 ? 1.8 : 2.5; }
  function core20Style(){ return {fill: false, color: '@c20-ink@', weight: core20W(), opacity: 0.95}; }
  // line styles beside colours, so a connector is told apart without colour: solid, dashes, dots, dash-dot…
  var DASH = [null, '12 6', '3 5', '14 5 3 5', '6 3', '20 6 3 6 3 6'];
  if (O.core20) {
    over.core20 = L.geoJson(outline(O.core20, false), {interactive: false, style: core20Style});
    map.on('zoomend', function(){ over.core20.setStyle(core20Style()); });
  }
  if (O.footprints) {
    over.footprints = L.geoJson(outline(O.footprints, true), {style: function(f){
        return f.properties.selected ? {fill: false, color: '@c20-selected@', weight: 4.5, opacity: 1, dashArray: null}
                                     : {fill: false, color: '@c20-footprint@', weight: 1.5, opacity: 0.9, dashArray: '6 4'}; },
      onEachFeature: function(f, l){ l.bindTooltip((f.properties.selected ? '<b>Selected PCN</b><br>' : '') +
        'Indicative footprint: ' + f.properties.label, TIP); }});
  }
  if (O.patches) {
    over.patches = L.geoJson(outline(O.patches, true), {style: function(f){
        var pal = O.patches.pal;
        var c = (f.properties.connector || 1) - 1;
        return {fill: false, color: pal[c % pal.length], weight: 4, opacity: 1, dashArray: DASH[c % DASH.length]};},
      onEachFeature: function(f, l){ var p = f.properties;
        l.bindTooltip('<b>' + p.label + '</b>' +
        (p.connectors && p.connectors.length > 1 ? '<br>Connectors ' + p.connectors.join(', ')
          : p.connector !== undefined ? '<br>Connector ' + p.connector : '') +
        (p.households !== undefined ? '<br>' + fmt(p.households) + ' households' : ''), TIP); }});
    // each patch labelled with its connectors (C1, or C1 C2 C3 where they share it month by month), so who
    // walks it is read without its colour (the outline's colour and dashes are the first connector's)
    over.patches.getLayers().slice().forEach(function(l){ var p = l.feature.properties, c = p.connector;
      if (c === undefined || c === null) { return; }
      var cs = (p.connectors && p.connectors.length) ? p.connectors : [c];
      over.patches.addLayer(L.marker(l.getBounds().getCenter(), {interactive: false, keyboard: false,
        icon: L.divIcon({className: 'c20-patch-label', html: cs.map(function(x){ return 'C' + x; }).join(' '),
                         iconSize: null})})); });
  }
  if (O.practices) {
    // a user's values by practice are shown unclustered, so every practice's colour is visible
    var grp = (O.practices.cluster && L.markerClusterGroup) ? L.markerClusterGroup({maxClusterRadius: 80})
                                                            : L.featureGroup();
    var selM = null;
    O.practices.pts.forEach(function(r){
      var me = O.practices.sel === r[3];  // a practice's own view: its marker ringed and on top
      var m = L.circleMarker([r[0], r[1]], {radius: me ? 11 : 7, color: me ? '@c20-selected@' : '@c20-ink@', weight: me ? 4 : 1,
                                            fillColor: O.practices.pal[r[2]], fillOpacity: 0.95});
      m.feature = {type: 'Feature', properties: {kind: 'practice', c: r[3], n: r[4], selected: me ? 1 : 0}};
      m.bindTooltip((me ? '<b>Selected practice</b><br>' : '') + '<b>' + r[4] + '</b> (' + r[3] + ')<br>PCN: ' +
                    r[5] + '<br>List size (July 2022): ' + fmt(r[6]) + (r[7] ? '<br>' + r[7] : ''), TIP);
      if (me) { selM = m; } else { grp.addLayer(m); }
    });
    if (selM) { grp = L.featureGroup([grp, selM]); }
    over.practices = grp;
  }
  var legend = L.control({position: 'bottomright'});
  var legendDiv;
  function lineKey(){ var h = '';
    if (over.core20 && map.hasLayer(over.core20)) {
      h += '<div><span class="c20-line" style="border-top:3px solid @c20-ink@"></span>' + O.core20.label + '</div>'; }
    if (over.footprints && map.hasLayer(over.footprints)) {
      var sel = O.footprints.lines.some(function(ln){ return ln.selected; });
      h += (sel ? '<div><span class="c20-line" style="border-top:4px solid @c20-selected@"></span>' +
                  'Indicative footprint of the ' + (O.practices && O.practices.sel ? 'practice’s PCN' :
                                                      'selected PCN') + '</div>' : '') +
           '<div><span class="c20-line" style="border-top:2px dashed @c20-footprint@"></span>' +
           (sel ? 'Footprints of the other PCNs' : 'Indicative PCN footprints') + '</div>'; }
    if (over.patches && map.hasLayer(over.patches)) {
      var used = {}, shared = false;
      O.patches.lines.forEach(function(ln){ if (ln.connector) { used[ln.connector] = true; }
        if (ln.connectors && ln.connectors.length > 1) { shared = true; } });
      Object.keys(used).map(Number).sort(function(a, b){ return a - b; }).slice(0, 6).forEach(function(k){
        var i = k - 1;
        h += '<div><svg width="26" height="8" aria-hidden="true"><line x1="0" y1="4" x2="26" y2="4" stroke="' +
             O.patches.pal[i % O.patches.pal.length] + '" stroke-width="3"' +
             (DASH[i % DASH.length] ? ' stroke-dasharray="' + DASH[i % DASH.length] + '"' : '') +
             '/></svg> Patch first walked by connector ' + k + ' (labelled C' + k + ')</div>'; });
      if (shared) { h += '<div>A patch the connectors share month by month is labelled with each (C1 C2 …)</div>'; } }
    return h ? '<hr style="margin:4px 0">' + h : ''; }
  function redrawLegend(){ legendDiv.innerHTML = legendHtml(); markLegend(); }
  function legendHtml(){ var h = cur.legend + lineKey();
    if (cur.key === Q.amk && Q.am) {
      h += '<hr style="margin:4px 0"><div class="c20-ambiguous"><i style="background:repeating-linear-gradient(' +
           '-45deg,@c20-ink@ 0 1.1px,@c20-paper@ 1.1px 2.2px,@c20-faded-edge@ 2.2px 5.6px)"></i>Hatched: merged from LSOA 2011s on ' +
           'both sides of the Core20 line (IMD 2019); the decile is that of its most populous part (' + Q.am.length +
           ' LSOA' + (Q.am.length === 1 ? '' : 's') + ' here)</div>'; }
    if (O.practices && O.practices.sel && over.practices && map.hasLayer(over.practices)) {
      h += '<div><svg width="26" height="22" aria-hidden="true"><circle cx="13" cy="11" r="8" fill="@c20-paper@" ' +
           'stroke="@c20-selected@" stroke-width="4"/></svg> The selected practice (ringed)</div>'; }
    if (O.practices && O.practices.legend && over.practices && map.hasLayer(over.practices)) {
      h += '<hr style="margin:4px 0">' + O.practices.legend; }
    return h; }
  function collapsible(btn, body, word){
    function show(open){ body.style.display = open ? '' : 'none'; btn.setAttribute('aria-expanded', open ? 'true' : 'false');
      btn.textContent = word + (open ? ' (hide)' : ' (show)'); }
    btn.addEventListener('click', function(){ show(body.style.display === 'none'); });
    if (c20Phone()) { show(false); } }  // on a phone both start folded, so the map is seen first
  legend.onAdd = function(){ var box = L.DomUtil.create('div', 'c20-legend');
    box.innerHTML = '<button type="button" class="c20-toggle" aria-expanded="true">Legend (hide)</button>' +
                    '<div class="c20-legend-body"></div>';
    legendDiv = box.querySelector('.c20-legend-body');
    collapsible(box.querySelector('button'), legendDiv, 'Legend');
    legendDiv.addEventListener('click', function(ev){ var b = ev.target.closest('button.c20-class');
      if (b) { pick(b.getAttribute('data-k')); } });
    redrawLegend(); L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box); return box; };
  legend.addTo(map);
  var panel = L.control({position: 'topright'});
  panel.onAdd = function(){
    var div = L.DomUtil.create('div', 'c20-panel');
    var groups = {}, order = [];
    P.layers.forEach(function(L){ if (!groups[L.group]) { groups[L.group] = []; order.push(L.group); }
                                  groups[L.group].push(L); });
    var h = '<label for="c20-layer"><b>Colour LSOAs by</b></label><select id="c20-layer" class="c20-layer">';
    var head = '<button type="button" class="c20-toggle" aria-expanded="true">Layers (hide)</button>';
    order.forEach(function(g){ h += '<optgroup label="' + g + '">';
      groups[g].forEach(function(L){ h += '<option value="' + L.key + '">' + L.label + '</option>'; });
      h += '</optgroup>'; });
    h += '</select>';
    Object.keys(over).forEach(function(k){
      h += '<label><input type="checkbox" class="c20-overlay" value="' + k + '"' +
           (P.show.indexOf(k) >= 0 ? ' checked' : '') + '> ' + O[k].label + '</label>'; });
    div.innerHTML = head + '<div class="c20-panel-body">' + h + '</div>';
    collapsible(div.querySelector('.c20-toggle'), div.querySelector('.c20-panel-body'), 'Layers');
    L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
    var sel = div.querySelector('select'); sel.value = cur.key;
    sel.addEventListener('change', function(){ cur = byKey[sel.value]; only = null; geo.setStyle(style);
      redrawLegend(); map.getContainer().setAttribute('data-layer', cur.key);
      map.getContainer().setAttribute('data-picked', '');
      // in the app the layer goes into the page address, so a shared link reopens on it
      try { var w = window.parent; if (w !== window) { var u = new URL(w.location.href);
        u.searchParams.set('layer', cur.key); w.history.replaceState(w.history.state, '', u.toString()); } }
      catch (e) {} });
    div.querySelectorAll('input.c20-overlay').forEach(function(cb){
      cb.addEventListener('change', function(){ if (cb.checked) { over[cb.value].addTo(map); }
                                                else { map.removeLayer(over[cb.value]); }
                                                redrawLegend(); }); });
    return div;
  };
  panel.addTo(map);
  Object.keys(over).forEach(function(k){ if (P.show.indexOf(k) >= 0) { over[k].addTo(map); } });
  if (over.core20) { over.core20.bringToFront(); }
  redrawLegend();
  if (map.attributionControl) { map.attributionControl.addAttribution(P.attribution); }
  // the data framed clear of the layer panel and the legend on the right
  var ctl = map.getContainer().querySelectorAll('.c20-panel, .c20-legend'), padR = 0;
  ctl.forEach(function(e){ padR = Math.max(padR, e.offsetWidth); });
  padR = Math.min(padR + 12, Math.round(map.getSize().x * 0.4));
  map.fitBounds(P.bounds, {paddingTopLeft: [12, 10], paddingBottomRight: [padR, 10]});
  map.getContainer().setAttribute('data-layer', cur.key);
  map.getContainer().setAttribute('data-lsoas', features.length);
}
