/* flowpressure dashboard: plain JavaScript over the service's JSON API (no build step).
 *
 * Sections: header (/v1/health, /v1/info), Fig 01 "trace the dollar" (/v1/multiplier),
 * Fig 02 price change vs flow (/v1/price-change), flows of one fund or ETF
 * (/v1/entities, /v1/flows/{fund,etf}) and the flow calendar (/v1/calendar).
 * Every request goes to this page's own origin; charts are drawn by the Plotly the app serves
 * at /static/plotly.min.js. A failed request is shown in the section as an element of class
 * "error"; nothing fails silently and nothing is written to the console.
 */
"use strict";

(function () {
  // ---------------------------------------------------------------------------------------
  // Formatting (fixed locale so the page reads the same everywhere)
  // ---------------------------------------------------------------------------------------
  const LOCALE = "en-US";
  const MINUS = "\u2212";

  function isNum(x) {
    return typeof x === "number" && Number.isFinite(x);
  }

  function fixed(x, digits) {
    return new Intl.NumberFormat(LOCALE, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(Math.abs(x));
  }

  function sign(x, plus) {
    if (x < 0) return MINUS;
    return plus && x > 0 ? "+" : "";
  }

  /** "$1,234.50"; negative "−$1.00"; plus=true gives "+$4.00". */
  function fmtMoney(x, digits = 2, plus = false) {
    if (!isNum(x)) return "–";
    return `${sign(x, plus)}$${fixed(x, digits)}`;
  }

  /** Money in short units for large amounts: "$12.3m", "$1.25bn". */
  function fmtMoneyShort(x, plus = false) {
    if (!isNum(x)) return "–";
    const a = Math.abs(x);
    const units = [
      [1e12, "tn"],
      [1e9, "bn"],
      [1e6, "m"],
      [1e3, "k"],
    ];
    for (const [size, name] of units) {
      if (a >= size) {
        const v = a / size;
        const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
        return `${sign(x, plus)}$${fixed(v, digits)}${name}`;
      }
    }
    return fmtMoney(x, 2, plus);
  }

  /** A price with at least 2 and at most 4 decimals: 1.05 → "$1.05", 1.0512 → "$1.0512". */
  function fmtPrice(x) {
    if (!isNum(x)) return "–";
    let digits = 2;
    while (digits < 4 && Math.abs(Math.round(x * 10 ** digits) - x * 10 ** digits) > 1e-9 * 10 ** digits) {
      digits += 1;
    }
    return `${sign(x, false)}$${fixed(x, digits)}`;
  }

  function fmtPct(x, digits = 2, plus = false) {
    if (!isNum(x)) return "–";
    return `${sign(x, plus)}${fixed(x * 100, digits)}%`;
  }

  function fmtNum(x, digits = 2) {
    if (!isNum(x)) return "–";
    return `${sign(x, false)}${fixed(x, digits)}`;
  }

  function fmtInt(x) {
    if (!isNum(x)) return "–";
    return `${sign(x, false)}${fixed(Math.round(x), 0)}`;
  }

  // ---------------------------------------------------------------------------------------
  // DOM helpers and status messages
  // ---------------------------------------------------------------------------------------
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs = {}, text = null) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    if (text !== null) node.textContent = text;
    return node;
  }

  function setText(id, text) {
    const node = $(id);
    if (node) node.textContent = text;
  }

  function showError(statusId, message) {
    const box = $(statusId);
    box.replaceChildren(el("p", { class: "error", role: "alert" }, message));
  }

  function showEmpty(statusId, message) {
    const box = $(statusId);
    box.replaceChildren(el("p", { class: "empty" }, message));
  }

  function clearStatus(statusId) {
    $(statusId).replaceChildren();
  }

  function setState(sectionId, state) {
    $(sectionId).dataset.state = state;
  }

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn(...args);
      }, ms);
    };
  }

  // ---------------------------------------------------------------------------------------
  // The JSON API
  // ---------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.name = "ApiError";
      this.status = status;
    }
  }

  function detailText(body, raw) {
    const detail = body && typeof body === "object" ? body.detail : null;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((d) => {
          const loc = Array.isArray(d.loc) ? d.loc.filter((p) => p !== "query" && p !== "body") : [];
          return loc.length ? `${loc.join(".")}: ${d.msg}` : String(d.msg ?? JSON.stringify(d));
        })
        .join("; ");
    }
    if (detail !== null && detail !== undefined) return JSON.stringify(detail);
    return raw ? raw.slice(0, 200) : "no details";
  }

  /** GET a same-origin JSON resource; throws ApiError with a readable message. */
  async function getJSON(path) {
    let resp;
    try {
      resp = await fetch(path, { headers: { Accept: "application/json" } });
    } catch (err) {
      throw new ApiError(`${path}: the service did not answer (${err.message})`, 0);
    }
    const raw = await resp.text();
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch (_err) {
      body = null;
    }
    if (!resp.ok) {
      let msg = `${path} failed (HTTP ${resp.status}): ${detailText(body, raw)}`;
      if (resp.status === 503) {
        const wait = resp.headers.get("Retry-After");
        msg += wait ? ` The store is busy; try again in ${wait} s.` : " The store is busy; try again shortly.";
      }
      throw new ApiError(msg, resp.status);
    }
    if (body === null || typeof body !== "object") {
      throw new ApiError(`${path}: the answer is not a JSON object`, resp.status);
    }
    return body;
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
    }
    return q.toString();
  }

  // ---------------------------------------------------------------------------------------
  // Plotly
  // ---------------------------------------------------------------------------------------
  const COLORS = {
    ink: "#1f2933",
    muted: "#7b8794",
    grid: "#e4e7eb",
    blue: "#1f6feb",
    green: "#1a7f4b",
    red: "#c0392b",
    orange: "#d9822b",
    total: "#334e68",
  };
  const FAMILY_COLORS = ["#1f6feb", "#d9822b", "#1a7f4b", "#8e44ad", "#c0392b", "#16a2b8", "#6c757d", "#b8860b"];
  const PLOT_CONFIG = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["lasso2d", "select2d", "autoScale2d"],
  };

  function baseLayout(extra) {
    return Object.assign(
      {
        font: { family: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: COLORS.ink },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        margin: { l: 64, r: 24, t: 36, b: 48 },
        hoverlabel: { font: { size: 12 } },
      },
      extra,
    );
  }

  function axis(extra) {
    return Object.assign({ gridcolor: COLORS.grid, zerolinecolor: "#9aa5b1", automargin: true }, extra);
  }

  /** Draw or update one chart; report (once per section) when Plotly is not there. */
  function plot(divId, traces, layout, statusId) {
    if (typeof window.Plotly === "undefined") {
      if (statusId) showError(statusId, "Charts unavailable: /static/plotly.min.js did not load.");
      return Promise.resolve();
    }
    $(divId).hidden = false;
    return window.Plotly.react(divId, traces, layout, PLOT_CONFIG);
  }

  function purge(divId) {
    const div = $(divId);
    if (typeof window.Plotly !== "undefined" && div.data) window.Plotly.purge(div);
    div.replaceChildren();
    div.hidden = true;
  }

  /** A unit for an axis of dollars: values are divided by it and the axis says "$m", "$bn". */
  function moneyUnit(values) {
    const biggest = Math.max(0, ...values.filter(isNum).map(Math.abs));
    if (biggest >= 1e9) return { size: 1e9, name: "$bn", suffix: "bn" };
    if (biggest >= 1e6) return { size: 1e6, name: "$m", suffix: "m" };
    if (biggest >= 1e3) return { size: 1e3, name: "$k", suffix: "k" };
    return { size: 1, name: "$", suffix: "" };
  }

  function scaled(values, unit) {
    return values.map((v) => (isNum(v) ? v / unit.size : null));
  }

  // ---------------------------------------------------------------------------------------
  // Header: version, stored panels, as-of date
  // ---------------------------------------------------------------------------------------
  async function loadHeader() {
    let health;
    try {
      health = await getJSON("/v1/health");
    } catch (err) {
      setText("version", "?");
      setText("kinds", "?");
      setText("as-of", "?");
      showError("header-status", err.message);
      return null;
    }
    setText("version", health.version ? `v${health.version}` : "?");
    const kinds = Array.isArray(health.kinds) ? health.kinds : [];
    setText("kinds", kinds.length ? kinds.join(" · ") : "empty store");
    try {
      const info = await getJSON("/v1/info");
      const lastDates = Object.values(info)
        .map((k) => (k && typeof k === "object" ? k.last_date : null))
        .filter((d) => typeof d === "string" && d);
      lastDates.sort();
      setText("as-of", lastDates.length ? lastDates[lastDates.length - 1] : "no data");
      const rows = Object.entries(info).map(
        ([kind, k]) => `${kind}: ${fmtInt(k.rows)} rows, ${fmtInt(k.entities)} ids, ${k.first_date} … ${k.last_date}`,
      );
      $("kinds").title = rows.join("\n");
    } catch (err) {
      setText("as-of", "?");
      showError("header-status", err.message);
    }
    return kinds;
  }

  // ---------------------------------------------------------------------------------------
  // Fig 01: trace the dollar
  // ---------------------------------------------------------------------------------------
  const FIG01_INPUTS = ["inflow", "theta", "shares", "price"];
  const SHOWN_ROUNDS = 6; // rounds 2..7 are their own bars; the rest are summed into one
  const PRICE_PATH_ROUNDS = 40; // rounds asked for: enough for the price path to settle
  let fig01Seq = 0;

  function fig01Params() {
    const p = {};
    for (const name of FIG01_INPUTS) p[name] = $(name).value;
    return p;
  }

  function showFig01Inputs() {
    const p = fig01Params();
    setText("inflow-value", fmtMoney(Number(p.inflow)));
    setText("theta-value", `${fixed(Number(p.theta) * 100, 0)}%`);
    setText("shares-value", fmtInt(Number(p.shares)));
    setText("price-value", fmtMoney(Number(p.price)));
  }

  function waterfall(r) {
    const rounds = Array.isArray(r.rounds) ? r.rounds : [];
    const x = ["Inflow f", "To bonds", "Round 1: to stocks"];
    const y = [r.inflow, -r.bond_inflow, 0];
    const measure = ["absolute", "relative", "total"];
    let shown = r.equity_inflow;
    for (const rd of rounds.slice(1, 1 + SHOWN_ROUNDS)) {
      x.push(`Round ${rd.round}`);
      y.push(rd.demand);
      measure.push("relative");
      shown += rd.demand;
    }
    // The rest of the (infinite) feedback sum: what the shown bars leave of the solved gain,
    // so the bars add up exactly to the market cap change.
    const rest = r.market_cap_change - shown;
    if (Math.abs(rest) > 1e-9 * Math.max(1, Math.abs(r.market_cap_change))) {
      x.push(`Rounds ${Math.min(rounds.length, 1 + SHOWN_ROUNDS) + 1}+`);
      y.push(rest);
      measure.push("relative");
    }
    x.push("Market cap change");
    y.push(0);
    measure.push("total");
    const labels = [];
    let running = 0;
    for (let i = 0; i < x.length; i += 1) {
      if (measure[i] === "absolute") running = y[i];
      else if (measure[i] === "relative") running += y[i];
      labels.push(measure[i] === "relative" ? fmtMoney(y[i], 2, true) : fmtMoney(running));
    }
    return {
      type: "waterfall",
      name: "cascade",
      orientation: "v",
      x,
      y,
      measure,
      text: labels,
      textposition: "outside",
      cliponaxis: false,
      connector: { line: { color: "#9aa5b1", width: 1 } },
      increasing: { marker: { color: COLORS.green } },
      decreasing: { marker: { color: COLORS.orange } },
      totals: { marker: { color: COLORS.total } },
      hovertemplate: "%{x}<br>%{text}<extra></extra>",
    };
  }

  function drawFig01(r) {
    setText("multiplier", fixed(r.multiplier, 2));
    setText("price-after", fmtPrice(r.price_after));
    setText("price-change-note", `${fmtPrice(r.price)} → ${fmtPrice(r.price_after)} (${fmtPct(r.price_change, 2, true)})`);
    setText("market-cap-change", fmtMoney(r.market_cap_change, 2, true));
    setText("market-cap-note", `${fmtMoney(r.market_cap_before)} → ${fmtMoney(r.market_cap_after)}`);
    setText("equity-inflow", fmtMoney(r.equity_inflow));
    setText("bond-inflow-note", `of ${fmtMoney(r.inflow)}; ${fmtMoney(r.bond_inflow)} to bonds`);

    setText("ba-price-before", fmtPrice(r.price));
    setText("ba-price-after", fmtPrice(r.price_after));
    setText("ba-cap-before", fmtMoney(r.market_cap_before));
    setText("ba-cap-after", fmtMoney(r.market_cap_after));
    setText("ba-bonds-before", fmtMoney(r.bonds));
    setText("ba-bonds-after", fmtMoney(r.bonds_after));
    setText("ba-fund-before", fmtMoney(r.fund_value_before));
    setText("ba-fund-after", fmtMoney(r.fund_value_after));
    setText("ba-zeta", `${fmtNum(r.zeta, 2)}  (M = 1/ζ = ${fmtNum(1 / r.zeta, 2)})`);

    const list = $("cascade-steps");
    const steps = Array.isArray(r.steps) ? r.steps : [];
    list.replaceChildren(...steps.map((s) => el("li", { "data-stage": s.stage }, s.text)));

    const waterfallLayout = baseLayout({
      title: { text: `Where ${fmtMoney(r.inflow)} of ${r.inflow < 0 ? "outflow" : "inflow"} ends up`, font: { size: 14 } },
      showlegend: false,
      xaxis: axis({ tickangle: -30 }),
      yaxis: axis({ title: { text: "dollars" }, tickprefix: "$" }),
      margin: { l: 64, r: 16, t: 40, b: 80 },
    });
    plot("fig01-chart", [waterfall(r)], waterfallLayout, "fig01-status");

    const rounds = Array.isArray(r.rounds) ? r.rounds : [];
    const rx = [0, ...rounds.map((d) => d.round)];
    const ry = [r.price, ...rounds.map((d) => d.price)];
    const roundsLayout = baseLayout({
      title: { text: "Share price after each feedback round", font: { size: 13 } },
      showlegend: false,
      xaxis: axis({ title: { text: "round" }, rangemode: "tozero" }),
      yaxis: axis({ title: { text: "price" }, tickprefix: "$" }),
      margin: { l: 64, r: 16, t: 36, b: 44 },
      shapes: [
        {
          type: "line",
          xref: "paper",
          x0: 0,
          x1: 1,
          y0: r.price_after,
          y1: r.price_after,
          line: { color: COLORS.muted, dash: "dot", width: 1 },
        },
      ],
      annotations: [
        {
          xref: "paper",
          x: 1,
          y: r.price_after,
          xanchor: "right",
          yanchor: "bottom",
          showarrow: false,
          text: `equilibrium ${fmtPrice(r.price_after)}`,
          font: { size: 11, color: COLORS.muted },
        },
      ],
    });
    const roundsTrace = {
      type: "scatter",
      mode: "lines+markers",
      name: "price",
      x: rx,
      y: ry,
      line: { color: COLORS.blue, shape: "hv" },
      marker: { size: 5 },
      hovertemplate: "round %{x}<br>price $%{y:.4f}<extra></extra>",
    };
    plot("fig01-rounds", [roundsTrace], roundsLayout, "fig01-status");
  }

  async function updateFig01() {
    const seq = ++fig01Seq;
    const path = `/v1/multiplier?${query(Object.assign(fig01Params(), { rounds: PRICE_PATH_ROUNDS }))}`;
    setState("fig01", "loading");
    try {
      const result = await getJSON(path);
      if (seq !== fig01Seq) return; // a newer slider position has been asked for
      clearStatus("fig01-status");
      drawFig01(result);
      setState("fig01", "ready");
    } catch (err) {
      if (seq !== fig01Seq) return;
      showError("fig01-status", err.message);
      setState("fig01", "error");
    }
  }

  function initFig01() {
    const debounced = debounce(updateFig01, 50);
    for (const name of FIG01_INPUTS) {
      $(name).addEventListener("input", () => {
        showFig01Inputs();
        debounced();
      });
    }
    $("fig01-controls").addEventListener("submit", (ev) => ev.preventDefault());
    showFig01Inputs();
    return updateFig01();
  }

  // ---------------------------------------------------------------------------------------
  // Fig 02: price change vs flow, p = f / zeta
  // ---------------------------------------------------------------------------------------
  const EMPIRICAL_ZETA = 0.2;
  const ELASTIC_ZETA = 2.0;
  const REFERENCE_FLOW = 0.01;
  let fig02Seq = 0;

  function zetaLabel(z) {
    if (Math.abs(z - EMPIRICAL_ZETA) < 1e-9) return "ζ = 0.2, the empirical estimate";
    if (Math.abs(z - ELASTIC_ZETA) < 1e-9) return "ζ = 2.0, the conventional elastic value";
    return `at ζ = ${fixed(z, 2)}`;
  }

  function drawFig02(data) {
    const pts = Array.isArray(data.points) ? data.points : [];
    const x = pts.map((p) => p.flow);
    const z = data.zeta;
    const ez = data.elastic_zeta;
    const chosenName = Math.abs(z - EMPIRICAL_ZETA) < 1e-9 ? `ζ = ${fixed(z, 2)} (empirical)` : `ζ = ${fixed(z, 2)} (chosen)`;
    const chosen = {
      type: "scatter",
      mode: "lines",
      name: chosenName,
      x,
      y: pts.map((p) => p.price_change),
      line: { color: COLORS.blue, width: 3 },
      hovertemplate: "flow %{x:.2%}<br>price %{y:+.2%}<extra>" + chosenName + "</extra>",
    };
    const elasticName = `ζ = ${fixed(ez, 1)} (elastic, conventional)`;
    const elastic = {
      type: "scatter",
      mode: "lines",
      name: elasticName,
      x,
      y: pts.map((p) => p.price_change_elastic),
      line: { color: COLORS.orange, width: 2, dash: "dash" },
      hovertemplate: "flow %{x:.2%}<br>price %{y:+.2%}<extra>" + elasticName + "</extra>",
    };
    const last = pts.length ? pts[pts.length - 1] : null;
    const annotations = last
      ? [
          {
            x: last.flow,
            y: last.price_change,
            xanchor: "right",
            yanchor: "bottom",
            yshift: 4,
            showarrow: false,
            text: z < 1 ? `inelastic: M = ${fixed(1 / z, 1)}×` : `M = ${fixed(1 / z, 2)}×`,
            font: { color: COLORS.blue, size: 12 },
          },
          {
            x: last.flow,
            y: last.price_change_elastic,
            xanchor: "right",
            yanchor: "top",
            yshift: -8,
            showarrow: false,
            text: `elastic ζ = ${fixed(ez, 1)}: M = ${fixed(1 / ez, 1)}×`,
            font: { color: COLORS.orange, size: 12 },
          },
        ]
      : [];
    const layout = baseLayout({
      title: { text: "p = f / ζ", font: { size: 14 } },
      xaxis: axis({ title: { text: "flow f (fraction of market value)" }, tickformat: ".0%" }),
      yaxis: axis({ title: { text: "price change p" }, tickformat: ".0%" }),
      legend: { x: 0.01, y: 0.99, xanchor: "left", yanchor: "top", bgcolor: "rgba(255,255,255,0.85)" },
      margin: { l: 64, r: 24, t: 40, b: 56 },
      annotations,
    });
    plot("fig02-chart", [chosen, elastic], layout, "fig02-status");

    let ref = null;
    for (const p of pts) {
      if (ref === null || Math.abs(p.flow - REFERENCE_FLOW) < Math.abs(ref.flow - REFERENCE_FLOW)) ref = p;
    }
    setText("zeta-multiplier", `${fixed(1 / z, 2)}×`);
    setText("zeta-impact", ref ? fmtPct(ref.price_change, 2, true) : "–");
    setText("zeta-label", zetaLabel(z));
    setText("elastic-impact", ref ? fmtPct(ref.price_change_elastic, 2, true) : "–");
  }

  async function updateFig02() {
    const seq = ++fig02Seq;
    const path = `/v1/price-change?${query({ zeta: $("zeta").value, elastic_zeta: "2.0", flow_min: -0.05, flow_max: 0.05, points: 41 })}`;
    setState("fig02", "loading");
    try {
      const data = await getJSON(path);
      if (seq !== fig02Seq) return;
      clearStatus("fig02-status");
      drawFig02(data);
      setState("fig02", "ready");
    } catch (err) {
      if (seq !== fig02Seq) return;
      showError("fig02-status", err.message);
      setState("fig02", "error");
    }
  }

  function initFig02() {
    const debounced = debounce(updateFig02, 50);
    const show = () => setText("zeta-value", fixed(Number($("zeta").value), 2));
    $("zeta").addEventListener("input", () => {
      show();
      debounced();
    });
    $("fig02-controls").addEventListener("submit", (ev) => ev.preventDefault());
    show();
    return updateFig02();
  }

  // ---------------------------------------------------------------------------------------
  // Flows of one fund or ETF
  // ---------------------------------------------------------------------------------------
  const FLOW_KINDS = ["fund", "etf"];
  let flowsSeq = 0;

  function drawFlows(kind, data) {
    const rows = Array.isArray(data.rows) ? data.rows : [];
    const dates = rows.map((r) => r.date);
    const flows = rows.map((r) => (isNum(r.flow) ? r.flow : null));
    const cumulative = [];
    let total = 0;
    let measured = 0;
    for (const f of flows) {
      if (f !== null) {
        total += f;
        measured += 1;
      }
      cumulative.push(total);
    }
    const id = data.fund_id;
    const unit = moneyUnit(flows.concat(cumulative));
    const full = flows.map((f) => fmtMoneyShort(f, true));
    const fullCum = cumulative.map((c) => fmtMoneyShort(c, true));
    const bars = {
      type: "bar",
      name: "flow",
      x: dates,
      y: scaled(flows, unit),
      customdata: full,
      marker: { color: flows.map((f) => (f !== null && f < 0 ? COLORS.red : COLORS.green)) },
      hovertemplate: "%{x}<br>flow %{customdata}<extra></extra>",
    };
    const line = {
      type: "scatter",
      mode: "lines",
      name: "cumulative flow (right axis)",
      x: dates,
      y: scaled(cumulative, unit),
      customdata: fullCum,
      yaxis: "y2",
      line: { color: COLORS.total, width: 2 },
      hovertemplate: "%{x}<br>cumulative %{customdata}<extra></extra>",
    };
    const layout = baseLayout({
      title: { text: `${kind === "etf" ? "ETF" : "Fund"} ${id}: net flows`, font: { size: 14 } },
      bargap: 0.1,
      legend: { orientation: "h", x: 0, y: 1.1 },
      xaxis: axis({ type: "date" }),
      yaxis: axis({ title: { text: `flow (${unit.name})` }, tickformat: ",~r" }),
      yaxis2: axis({
        title: { text: `cumulative (${unit.name})` },
        tickformat: ",~r",
        tickmode: "auto",
        overlaying: "y",
        side: "right",
        showgrid: false,
      }),
      margin: { l: 72, r: 72, t: 48, b: 40 },
    });
    plot("flows-chart", [bars, line], layout, "flows-status");

    const summary = $("flows-summary");
    const parts = [];
    if (rows.length) {
      parts.push(`${fmtInt(rows.length)} ${kind === "etf" ? "sessions" : "periods"}, ${dates[0]} … ${dates[dates.length - 1]}`);
      parts.push(`net flow ${fmtMoneyShort(total, true)} over ${fmtInt(measured)} measured`);
      const valued = flows.filter((f) => f !== null);
      if (valued.length) {
        parts.push(`largest inflow ${fmtMoneyShort(Math.max(...valued), true)}`);
        parts.push(`largest outflow ${fmtMoneyShort(Math.min(...valued), true)}`);
      }
    } else {
      parts.push("no rows");
    }
    const diag = data.diagnostics && typeof data.diagnostics === "object" ? Object.entries(data.diagnostics) : [];
    const notes = diag.filter(([, n]) => isNum(n) && n > 0).map(([note, n]) => `${note}: ${fmtInt(n)}`);
    summary.replaceChildren(el("span", {}, parts.join(" · ")));
    if (notes.length) summary.append(el("span", { class: "diagnostics" }, ` · diagnostics: ${notes.join(", ")}`));
  }

  async function updateFlows() {
    const kind = $("flow-kind").value;
    const id = $("flow-id").value;
    if (!id) return;
    const seq = ++flowsSeq;
    const path = `/v1/flows/${kind}?${query({ fund_id: id })}`;
    setState("flows", "loading");
    try {
      const data = await getJSON(path);
      if (seq !== flowsSeq) return;
      clearStatus("flows-status");
      drawFlows(kind, data);
      setState("flows", "ready");
    } catch (err) {
      if (seq !== flowsSeq) return;
      showError("flows-status", err.message);
      setState("flows", "error");
    }
  }

  async function loadEntities() {
    const kind = $("flow-kind").value;
    const select = $("flow-id");
    const seq = ++flowsSeq;
    select.disabled = true;
    setState("flows", "loading");
    let data;
    try {
      data = await getJSON(`/v1/entities?${query({ kind })}`);
    } catch (err) {
      if (seq !== flowsSeq) return;
      showError("flows-status", err.message);
      setState("flows", "error");
      return;
    }
    if (seq !== flowsSeq) return;
    const ids = Array.isArray(data.ids) ? data.ids : [];
    select.replaceChildren(...ids.map((id) => el("option", { value: id }, id)));
    if (!ids.length) {
      purge("flows-chart");
      $("flows-summary").replaceChildren();
      showEmpty("flows-status", `No ${kind} ids in the store.`);
      setState("flows", "empty");
      return;
    }
    select.disabled = false;
    select.value = ids[0];
    await updateFlows();
  }

  function initFlows(kinds) {
    if (kinds === null) {
      showError("flows-status", "Cannot tell which panels are stored: /v1/health failed (see the top of the page).");
      setState("flows", "error");
      return Promise.resolve();
    }
    const stored = FLOW_KINDS.filter((k) => kinds.includes(k));
    const kindSelect = $("flow-kind");
    for (const opt of Array.from(kindSelect.options)) {
      if (!stored.includes(opt.value)) opt.remove();
    }
    kindSelect.addEventListener("change", loadEntities);
    $("flow-id").addEventListener("change", updateFlows);
    $("flows-controls").addEventListener("submit", (ev) => ev.preventDefault());
    if (!stored.length) {
      kindSelect.disabled = true;
      showEmpty("flows-status", "No fund panel in the store (and no etf panel): ingest one to see flows.");
      setState("flows", "empty");
      return Promise.resolve();
    }
    kindSelect.value = stored[0];
    return loadEntities().then(() => {
      if (!kinds.includes("fund")) {
        $("flows-status").prepend(el("p", { class: "empty" }, "No fund panel in the store; showing ETFs."));
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Flow calendar
  // ---------------------------------------------------------------------------------------
  const MAX_TABLE_ROWS = 300;
  let calendarSeq = 0;

  function eventGroups(events) {
    // One marker per (family, date): several assets on one day share it.
    const groups = new Map();
    for (const ev of events) {
      const key = `${ev.family}\u0000${ev.date}`;
      if (!groups.has(key)) groups.set(key, { family: ev.family, date: ev.date, assets: [], dollars: 0, sized: 0 });
      const g = groups.get(key);
      g.assets.push(ev.asset_id);
      if (isNum(ev.dollars)) {
        g.dollars += ev.dollars;
        g.sized += 1;
      }
    }
    return Array.from(groups.values());
  }

  function drawCalendarChart(events) {
    const groups = eventGroups(events);
    const families = Array.from(new Set(groups.map((g) => g.family))).sort();
    const biggest = Math.max(0, ...groups.map((g) => Math.abs(g.dollars)));
    const unit = moneyUnit(groups.map((g) => g.dollars));
    const traces = families.map((family, i) => {
      const gs = groups.filter((g) => g.family === family);
      const color = FAMILY_COLORS[i % FAMILY_COLORS.length];
      return {
        type: "scatter",
        mode: "markers",
        name: family,
        x: gs.map((g) => g.date),
        y: gs.map((g) => (g.sized ? g.dollars / unit.size : 0)),
        customdata: gs.map((g) => [
          g.assets.slice(0, 8).join(", ") + (g.assets.length > 8 ? ` +${g.assets.length - 8}` : ""),
          g.sized ? fmtMoneyShort(g.dollars, true) : "unsized",
          g.assets.length,
        ]),
        marker: {
          color: gs.map((g) => (g.sized ? color : "rgba(255,255,255,0.9)")),
          line: { color, width: 2 },
          size: gs.map((g) => (g.sized && biggest > 0 ? 9 + 21 * Math.sqrt(Math.abs(g.dollars) / biggest) : 10)),
          symbol: gs.map((g) => (g.sized ? "circle" : "diamond")),
        },
        hovertemplate: "%{x}<br>" + family + ": %{customdata[2]} event(s)<br>%{customdata[1]}<br>%{customdata[0]}<extra></extra>",
      };
    });
    const layout = baseLayout({
      title: { text: "Dollars by date and family (hollow diamonds: date known, size unknown)", font: { size: 13 } },
      xaxis: axis({ type: "date" }),
      yaxis: axis({ title: { text: `dollars (${unit.name})` }, tickformat: ",~r" }),
      legend: { orientation: "h", x: 0, y: -0.18 },
      margin: { l: 72, r: 24, t: 40, b: 72 },
    });
    plot("calendar-chart", traces, layout, "calendar-status");
  }

  function drawCalendarTable(events) {
    const body = $("calendar-table").tBodies[0];
    const rows = events.slice(0, MAX_TABLE_ROWS).map((ev) => {
      const tr = el("tr");
      const window = ev.window_start && ev.window_end ? `${ev.window_start} … ${ev.window_end}` : "";
      tr.append(
        el("td", { class: "nowrap" }, ev.date ?? ""),
        el("td", {}, ev.family ?? ""),
        el("td", {}, ev.asset_id ?? ""),
        el("td", { class: "nowrap" }, window),
        el("td", { class: "num" }, isNum(ev.dollars) ? fmtMoneyShort(ev.dollars, true) : "–"),
        el("td", { class: "num" }, isNum(ev.days_of_adv) ? fmtNum(ev.days_of_adv, 2) : "–"),
        el("td", { class: `status-${ev.status}` }, ev.status ?? ""),
        el("td", { class: "notes" }, ev.notes ?? ""),
      );
      return tr;
    });
    body.replaceChildren(...rows);
  }

  async function updateCalendar() {
    const seq = ++calendarSeq;
    const horizon = $("horizon").value;
    const path = `/v1/calendar?${query({ horizon })}`;
    setState("calendar", "loading");
    try {
      const data = await getJSON(path);
      if (seq !== calendarSeq) return;
      clearStatus("calendar-status");
      const events = Array.isArray(data.events) ? data.events : [];
      if (!events.length) {
        purge("calendar-chart");
        drawCalendarTable([]);
        $("calendar-caption").textContent = "";
        showEmpty("calendar-status", `No events in the ${data.horizon ?? horizon} days after ${data.as_of ?? "the data's last date"}.`);
        setState("calendar", "empty");
        return;
      }
      const sized = events.filter((e) => isNum(e.dollars));
      const total = sized.reduce((s, e) => s + e.dollars, 0);
      let caption =
        `${fmtInt(events.length)} events in the ${data.horizon} days after ${data.as_of} ` +
        `(as of the data's last date); ${fmtInt(sized.length)} sized, net ${fmtMoneyShort(total, true)}.`;
      if (events.length > MAX_TABLE_ROWS) caption += ` The table shows the first ${MAX_TABLE_ROWS}.`;
      $("calendar-caption").textContent = caption;
      drawCalendarChart(events);
      drawCalendarTable(events);
      setState("calendar", "ready");
    } catch (err) {
      if (seq !== calendarSeq) return;
      showError("calendar-status", err.message);
      setState("calendar", "error");
    }
  }

  function initCalendar(kinds) {
    $("horizon").addEventListener("change", updateCalendar);
    $("calendar-controls").addEventListener("submit", (ev) => ev.preventDefault());
    if (Array.isArray(kinds) && kinds.length === 0) {
      // Nothing to take "as of" from: say so instead of asking for a calendar the app refuses.
      $("horizon").disabled = true;
      purge("calendar-chart");
      showEmpty("calendar-status", "No panel in the store to date the calendar from (no fund panel in the store, no prices): ingest prices to see upcoming flows.");
      setState("calendar", "empty");
      return Promise.resolve();
    }
    return updateCalendar();
  }

  // ---------------------------------------------------------------------------------------
  // Validation: the same table as `flowpressure validate`
  // ---------------------------------------------------------------------------------------
  async function initValidation() {
    setState("validation", "loading");
    const body = $("validation-table").tBodies[0];
    try {
      const data = await getJSON("/v1/validation");
      const checks = Array.isArray(data.checks) ? data.checks : [];
      clearStatus("validation-status");
      if (!data.configured) {
        body.replaceChildren();
        showEmpty("validation-status", "Validation is not configured: start the service with `flowpressure serve --validation DIR` (a folder laid out like ../shared/data).");
        setState("validation", "empty");
        return;
      }
      body.replaceChildren(
        ...checks.map((c) => {
          const tr = el("tr");
          tr.append(
            el("td", { class: "nowrap" }, c.check ?? ""),
            el("td", {}, c.data ?? ""),
            el("td", {}, c.figure ?? ""),
            el("td", { class: "notes" }, c.reference ?? ""),
            el("td", { class: `verdict-${c.verdict}` }, c.verdict ?? ""),
          );
          return tr;
        }),
      );
      setState("validation", checks.length ? "ready" : "empty");
    } catch (err) {
      body.replaceChildren();
      showError("validation-status", err.message);
      setState("validation", "error");
    }
  }

  // ---------------------------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------------------------
  async function start() {
    for (const id of ["fig01", "fig02", "flows", "calendar", "validation"]) setState(id, "loading");
    const figs = Promise.all([initFig01(), initFig02()]);
    const kinds = await loadHeader();
    await Promise.all([figs, initFlows(kinds), initCalendar(kinds), initValidation()]);
    document.body.dataset.loaded = "true";
  }

  // Exposed for the browser tests and for curious readers of the console.
  window.flowpressureDashboard = { fmtMoney, fmtMoneyShort, fmtPrice, fmtPct };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
