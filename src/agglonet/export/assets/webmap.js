/* agglonet web map: draws window.AGGLONET_DATA (written by agglonet.export.webmap) with Leaflet.
 *
 * Every translatable text is written once per language, each copy in a <span lang=...>; the
 * class agg-lang-<code> on <body> shows one of them (webmap.css). Switching the language only
 * changes that class, so texts Leaflet re-renders (the layer control) keep working.
 */
(function () {
  "use strict";

  var D = window.AGGLONET_DATA;
  var LANGS = D.languages;
  var PANES = { raster: 250, fill: 410, line: 420, point: 430 };

  function esc(text) {
    return String(text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  /* One text per language, e.g. {zh: "道路", en: "Roads"} → spans. */
  function i18n(texts) {
    return LANGS.map(function (lang) {
      var text = texts && texts[lang] !== undefined ? texts[lang] : "";
      return '<span class="agg-t" lang="' + lang + '">' + esc(text) + "</span>";
    }).join("");
  }

  function ui(key) {
    var out = {};
    LANGS.forEach(function (lang) { out[lang] = D.ui[lang][key]; });
    return out;
  }

  function initialLanguage() {
    var hash = (window.location.hash || "").replace("#", "");
    return LANGS.indexOf(hash) >= 0 ? hash : LANGS[0];
  }

  var lang = initialLanguage();
  var map = L.map("map", { zoomSnap: 0.25, maxZoom: D.maxZoom, preferCanvas: false });
  Object.keys(PANES).forEach(function (name) {
    map.createPane("agg-" + name).style.zIndex = PANES[name];
  });
  map.attributionControl.setPrefix(
    '<a href="https://leafletjs.com" title="Leaflet ' + esc(D.leafletVersion) + '">Leaflet</a>');
  if (D.osm) { map.attributionControl.addAttribution(esc(D.osm)); }
  L.control.scale({ metric: true, imperial: false, position: "bottomleft" }).addTo(map);

  /* ------------------------------------------------------------------ feature values */
  function featureValue(layer, feature, column) {
    if (Object.prototype.hasOwnProperty.call(layer.constants, column)) {
      return layer.constants[column];
    }
    return feature.properties[layer.varying.indexOf(column)];
  }

  function formatValue(value) {
    if (value === null || value === undefined || value === "") { return "–"; }
    if (value === true) { return i18n(ui("yes")) + ' <code>true</code>'; }
    if (value === false) { return i18n(ui("no")) + ' <code>false</code>'; }
    if (typeof value === "number") { return esc(String(value)); }
    return esc(value);
  }

  function popupHtml(layer, feature) {
    var rows = layer.columns.map(function (column) {
      var label = D.fields[column] || {};
      return "<tr><th>" + i18n(label) + '<br><code class="agg-col">' + esc(column) +
        "</code></th><td>" + formatValue(featureValue(layer, feature, column)) + "</td></tr>";
    });
    return '<div class="agg-popup"><div class="agg-popup-title">' + i18n(layer.names) +
      ' <code class="agg-col">' + esc(layer.file + "." + layer.id) + "</code></div>" +
      '<table class="agg-attrs">' + rows.join("") + "</table></div>";
  }

  /* ---------------------------------------------------------------------- layers */
  function swatch(kind, style) {
    var s = style || {};
    var stroke = s.color || "#333";
    var fill = s.fillColor || stroke;
    var svg;
    if (kind === "point") {
      var r = Math.max(2.5, Math.min(7, s.radius || 4));
      svg = '<circle cx="9" cy="8" r="' + r + '" fill="' + fill + '" fill-opacity="' +
        (s.fillOpacity === undefined ? 1 : s.fillOpacity) + '" stroke="' + stroke +
        '" stroke-width="' + Math.min(s.weight || 1, 2) + '"/>';
    } else if (kind === "line") {
      svg = '<line x1="1" y1="8" x2="17" y2="8" stroke="' + stroke + '" stroke-width="' +
        Math.max(1, Math.min(s.weight || 2, 6)) + '" stroke-linecap="round"/>';
    } else {
      svg = '<rect x="2" y="3" width="14" height="10" fill="' + (s.fill === false ? "none" : fill) +
        '" fill-opacity="' + (s.fillOpacity === undefined ? 0.4 : s.fillOpacity) +
        '" stroke="' + stroke + '" stroke-width="' + Math.min(s.weight || 1, 2.5) + '"/>';
    }
    return '<svg class="agg-swatch" width="18" height="16" viewBox="0 0 18 16">' + svg + "</svg>";
  }

  function toLeafletLayer(layer) {
    var f = layer.features;
    layer.varying = layer.columns.filter(function (c) {
      return !Object.prototype.hasOwnProperty.call(layer.constants, c);
    });
    var pane = "agg-" + layer.kind;
    var className = "agg-layer agg-layer-" + layer.id;
    // One geometry type for the whole layer is stored once (agglonet.export.webmap).
    var geometries = f.type ? f.coordinates.map(function (coordinates) {
      return { type: f.type, coordinates: coordinates };
    }) : f.geometry;
    var features = geometries.map(function (geometry, i) {
      return { type: "Feature", geometry: geometry, properties: f.rows[i], cls: f["class"][i] };
    });
    function style(feature) {
      var base = layer.classes[feature.cls].style;
      return L.extend({ pane: pane, className: className }, base);
    }
    var group = L.geoJSON(features, {
      style: style,
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, style(feature)); },
      onEachFeature: function (feature, item) {
        item.bindPopup(function () { return popupHtml(layer, feature); },
          { maxWidth: 420, maxHeight: 360, autoPanPadding: [20, 20] });
        if (layer.label) {
          var names = {};
          LANGS.forEach(function (code) {
            var column = layer.label[code] || layer.label[LANGS[0]];
            var value = column ? featureValue(layer, feature, column) : null;
            names[code] = value === null || value === undefined ? "" : String(value);
          });
          item.bindTooltip(i18n(names), {
            permanent: true, direction: layer.kind === "point" ? "right" : "center",
            offset: layer.kind === "point" ? [6, 0] : [0, 0], className: "agg-label",
            interactive: false
          });
        }
      }
    });
    group.aggLayer = layer;
    return group;
  }

  function rasterLayer(raster) {
    var overlay = L.imageOverlay(raster.image, raster.bounds, {
      pane: "agg-raster", opacity: 0.8, className: "agg-raster agg-raster-" + raster.id,
      interactive: false
    });
    overlay.aggRaster = raster;
    return overlay;
  }

  var overlays = {};
  var control = L.control.layers(null, null, { collapsed: false, position: "topright" });
  var ordered = [];
  D.rasters.forEach(function (raster) { ordered.push({ data: raster, leaflet: rasterLayer(raster) }); });
  D.layers.forEach(function (layer) { ordered.push({ data: layer, leaflet: toLeafletLayer(layer) }); });

  /* The class most features fall in (the swatch of the layer control). */
  function mainClass(d) {
    return d.classes.reduce(function (best, c) { return !best || c.n > best.n ? c : best; }, null);
  }

  function controlName(entry) {
    var d = entry.data;
    if (d.kind === "raster") {
      var first = d.ramp[0].color;
      var last = d.ramp[d.ramp.length - 1].color;
      return '<span class="agg-ramp-swatch" style="background:linear-gradient(90deg,' + first +
        "," + last + ')"></span>' + i18n(d.names);
    }
    return swatch(d.kind, mainClass(d) ? mainClass(d).style : null) + i18n(d.names) +
      ' <span class="agg-count">(' + d.count + ")</span>";
  }

  // Points first in the control: the list reads top (drawn on top) to bottom, like QGIS.
  var kindOrder = { point: 0, line: 1, fill: 2, raster: 3 };
  ordered.slice().sort(function (a, b) {
    return kindOrder[a.data.kind] - kindOrder[b.data.kind];
  }).forEach(function (entry) {
    overlays[entry.data.id] = entry.leaflet;
    control.addOverlay(entry.leaflet, controlName(entry));
  });
  ordered.forEach(function (entry) {
    if (entry.data.visible) { entry.leaflet.addTo(map); }
  });
  control.addTo(map);

  /* ---------------------------------------------------------------------- legend */
  var legend = L.control({ position: "bottomleft" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "agg-panel agg-legend");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);

  function legendHtml() {
    var parts = [];
    ordered.slice().sort(function (a, b) {
      return kindOrder[a.data.kind] - kindOrder[b.data.kind];
    }).forEach(function (entry) {
      var d = entry.data;
      if (!map.hasLayer(entry.leaflet)) { return; }
      if (d.kind === "raster") {
        var n = d.ramp.length;
        var stops = d.ramp.map(function (s, i) {
          return s.color + " " + (100 * i / Math.max(n - 1, 1)).toFixed(1) + "%";
        });
        parts.push('<div class="agg-legend-item agg-legend-raster" data-layer="' + esc(d.id) +
          '"><div class="agg-legend-name">' + i18n(d.names) + "</div>" +
          '<div class="agg-ramp"><div class="agg-ramp-bar" style="background:linear-gradient(180deg,' +
          stops.join(",") + ')"></div><div class="agg-ramp-labels">' +
          d.ramp.map(function (s) { return "<span>" + esc(s.label) + "</span>"; }).join("") +
          "</div></div>" + (d.faded ? '<div class="agg-legend-note">' + i18n(ui("buffer")) +
          "</div>" : "") + "</div>");
        return;
      }
      var field = d.classes.length && d.classes[0].field;
      var head = '<div class="agg-legend-name">' + i18n(d.names) +
        (field ? ' <span class="agg-legend-field">' + i18n(D.fields[field] || {}) +
          ' <code class="agg-col">' + esc(field) + "</code></span>" : "") + "</div>";
      var shown = d.classes.filter(function (c) { return c.n > 0; });
      var rows = shown.length > 1 || (shown[0] && shown[0].label) ?
        shown.map(function (c) {
          return '<div class="agg-legend-class">' + swatch(d.kind, c.style) +
            (c.label ? i18n(c.label) : "") +
            (c.value !== undefined && c.value !== "" ? ' <code class="agg-col">' + esc(c.value) + "</code>" : "") +
            "</div>";
        }).join("") : "";
      if (!rows) {
        head = '<div class="agg-legend-name">' + swatch(d.kind, mainClass(d) && mainClass(d).style) +
          i18n(d.names) + "</div>";
      }
      parts.push('<div class="agg-legend-item" data-layer="' + esc(d.id) + '">' + head + rows + "</div>");
    });
    return parts.join("");
  }

  /* The legend folds away (its title is a <details> summary); rebuilt when layers change. */
  function refreshLegend() {
    var container = legend.getContainer();
    var old = container.querySelector("details");
    var open = old ? old.open : true;
    container.innerHTML = '<details class="agg-legend-details"' + (open ? " open" : "") +
      '><summary class="agg-panel-title">' + i18n(ui("legend")) + "</summary>" + legendHtml() +
      "</details>";
  }
  map.on("overlayadd overlayremove", refreshLegend);

  /* ------------------------------------------------------- title, language, quality */
  var header = L.control({ position: "topleft" });
  header.onAdd = function () {
    var div = L.DomUtil.create("div", "agg-panel agg-header");
    L.DomEvent.disableClickPropagation(div);
    var buttons = LANGS.map(function (code) {
      var own = D.ui[code].language;
      return '<button type="button" class="agg-lang-button" data-lang="' + code + '" title="' +
        esc(own) + '">' + (code === "zh" ? "中文" : "English") + "</button>";
    }).join("");
    /* the switch offers the configured languages; with one language there is nothing to switch */
    div.innerHTML = '<div class="agg-title">' + i18n(D.title) + "</div>" +
      '<div class="agg-subtitle">' + i18n(ui("subtitle")) + "</div>" +
      (LANGS.length > 1 ? '<div class="agg-langs" role="group">' + buttons + "</div>" : "");
    Array.prototype.forEach.call(div.querySelectorAll("button"), function (button) {
      L.DomEvent.on(button, "click", function () { setLanguage(button.getAttribute("data-lang")); });
    });
    return div;
  };
  header.addTo(map);
  // The header above the zoom buttons.
  var corner = map.getContainer().querySelector(".leaflet-top.leaflet-left");
  corner.insertBefore(header.getContainer(), corner.firstChild);

  var about = L.control({ position: "bottomright" });
  about.onAdd = function () {
    var div = L.DomUtil.create("div", "agg-panel agg-about agg-quality-" + D.quality.level);
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    var lines = D.attribution.map(function (line) { return "<li>" + esc(line) + "</li>"; }).join("");
    div.innerHTML = '<div class="agg-caveat"><strong>' + i18n(ui("quality")) + "</strong> " +
      i18n(D.quality.text) + "</div>" +
      '<details class="agg-sources"><summary>' + i18n(ui("sources")) + "</summary><ul>" + lines +
      "</ul></details>";
    return div;
  };
  about.addTo(map);

  function setLanguage(code) {
    if (LANGS.indexOf(code) < 0) { return; }
    lang = code;
    LANGS.forEach(function (other) { document.body.classList.remove("agg-lang-" + other); });
    document.body.classList.add("agg-lang-" + code);
    document.documentElement.lang = D.htmlLang[code];
    document.title = D.title[code] + " — " + D.ui[code].subtitle;
    Array.prototype.forEach.call(document.querySelectorAll(".agg-lang-button"), function (b) {
      b.classList.toggle("agg-active", b.getAttribute("data-lang") === code);
    });
    try {  // remember the choice in the address (#zh, #en); harmless where not allowed
      window.history.replaceState(null, "", "#" + code);
    } catch (err) { /* a file:// page may refuse: the language still switches */ }
  }

  if (D.bounds) {
    map.fitBounds(D.bounds, { padding: [10, 10] });
  } else {
    map.setView([35, 105], 4);
  }
  map.setMinZoom(Math.max(0, Math.floor(map.getZoom()) - 3));
  setLanguage(lang);
  refreshLegend();

  window.agglonet = {
    map: map, overlays: overlays, control: control, setLanguage: setLanguage,
    language: function () { return lang; }, ready: true
  };
})();
