// Pod triage dashboard. Plain JavaScript, no build step, served with a strict CSP (no inline script).
// Everything that comes from a cluster (names, messages, log text) is written with textContent or
// attribute setters, never parsed as HTML. Pods refresh every pods_refresh seconds and the open pod's
// logs every logs_refresh seconds (the server's settings, or ?pods_refresh=&logs_refresh= in the URL),
// keeping the scroll positions, the selection and the filters.
"use strict";

(function () {
  const HEALTHS = ["failing", "degraded", "initializing", "healthy", "completed"];
  const params = new URLSearchParams(window.location.search);
  const state = {
    page: 0, pageSize: 100, total: 0,
    healths: new Set(), cluster: "", namespace: "", text: "", owner: "", gone: true, goneOnly: false,
    selected: null, levels: new Set(), container: "", logLimit: 200,
    podsRefresh: 30, logsRefresh: 10,
    podsTimer: null, logsTimer: null, podsSeq: 0, logsSeq: 0,
  };
  const $ = (id) => document.getElementById(id);

  // --------------------------------------------------------------- DOM helpers (text only)
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function age(iso) {
    if (!iso) return "";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 120) return Math.floor(s) + "s";
    if (s < 7200) return Math.floor(s / 60) + "m";
    if (s < 172800) return Math.floor(s / 3600) + "h";
    return Math.floor(s / 86400) + "d";
  }
  function keepScroll(elements, render) {
    const saved = elements.map((e) => [e, e.scrollTop]);
    const windowY = window.scrollY;
    render();
    for (const [e, top] of saved) e.scrollTop = top;
    window.scrollTo(window.scrollX, windowY);
  }

  async function getJSON(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) {
      window.location.assign("/login");
      throw new Error("sign-in required");
    }
    if (!response.ok) throw new Error(url.split("?")[0] + ": HTTP " + response.status);
    return response.json();
  }

  // --------------------------------------------------------------- pods
  function podQuery(withPage) {
    const q = new URLSearchParams();
    if (state.cluster) q.append("cluster", state.cluster);
    if (state.namespace) q.append("namespace", state.namespace);
    if (state.text) q.set("q", state.text);
    if (state.owner) q.set("owner", state.owner);
    for (const h of state.healths) q.append("health", h);
    q.set("gone", state.goneOnly ? "only" : state.gone ? "include" : "exclude");
    if (withPage) {
      q.set("limit", String(state.pageSize));
      q.set("offset", String(state.page * state.pageSize));
    }
    return q;
  }

  function podCard(pod) {
    const li = el("li", "pod health-" + pod.health + (pod.gone ? " gone" : ""));
    li.dataset.id = String(pod.id);
    li.dataset.health = pod.health;
    li.dataset.name = pod.name;
    li.tabIndex = 0;
    li.setAttribute("role", "button");
    li.setAttribute("aria-selected", String(state.selected === pod.id));
    if (state.selected === pod.id) li.classList.add("selected");

    const head = el("div", "pod-head");
    head.append(el("span", "pod-name", pod.name), el("span", "badge health", pod.health),
                el("span", "badge status", pod.status || pod.phase || "?"));
    if (pod.gone) head.append(el("span", "badge gone-badge", "gone"));
    li.append(head);

    const meta = [pod.cluster + "/" + pod.namespace, "ready " + (pod.ready || "?"),
                  "restarts " + (pod.restarts_text || pod.restarts), "age " + age(pod.created_at)];
    if (pod.node) meta.push(pod.node);
    li.append(el("div", "pod-meta", meta.join(" · ")));

    if (pod.top) {
      const top = el("div", "pod-top");
      const where = pod.top.container ? pod.top.container + ": " : "";
      top.append(el("span", "top-reason", where + (pod.top.reason || "")));
      if (pod.top.message) top.append(el("span", "top-message", " " + pod.top.message));
      li.append(top);
      if (pod.top.hint) li.append(el("div", "pod-hint", pod.top.hint));
    }
    const counts = el("div", "log-counts");
    for (const level of ["error", "exception", "warning"]) {
      const n = pod.log_counts[level];
      const badge = el("span", "count count-" + level + (n ? "" : " zero"), n + " " + level + (n === 1 ? "" : "s"));
      badge.dataset.level = level;
      counts.append(badge);
    }
    li.append(counts);
    li.addEventListener("click", () => selectPod(pod.id));
    li.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); selectPod(pod.id); }
    });
    return li;
  }

  async function loadPods() {
    const seq = ++state.podsSeq;
    const summaryUrl = "/api/v1/summary" + (state.cluster ? "?cluster=" + encodeURIComponent(state.cluster) : "");
    const summary = getJSON(summaryUrl);  // in parallel; the list is drawn as soon as it arrives
    try {
      const page = await getJSON("/api/v1/pods?" + podQuery(true));
      if (seq !== state.podsSeq) return;  // a newer request was started meanwhile
      state.total = page.total;
      if (page.items.length === 0 && state.page > 0 && page.total > 0) {
        state.page = Math.floor((page.total - 1) / state.pageSize);
        return loadPods();
      }
      keepScroll([$("list-pane")], () => {
        $("pods").replaceChildren(...page.items.map(podCard));
        renderPager();
      });
      if (!document.body.dataset.firstPodsMs) document.body.dataset.firstPodsMs = String(Math.round(performance.now()));
      const counts = await summary;
      if (seq !== state.podsSeq) return;
      keepScroll([$("list-pane")], () => renderSummary(counts));
      $("list-error").hidden = true;
      $("updated").textContent = "updated " + new Date().toLocaleTimeString();
      document.body.dataset.podsRefreshes = String(Number(document.body.dataset.podsRefreshes || 0) + 1);
    } catch (error) {
      summary.catch(() => {});
      $("list-error").textContent = "Could not load pods: " + error.message;
      $("list-error").hidden = false;
    }
  }

  function renderPager() {
    const pages = Math.max(1, Math.ceil(state.total / state.pageSize));
    const first = state.total ? state.page * state.pageSize + 1 : 0;
    const last = Math.min(state.total, (state.page + 1) * state.pageSize);
    $("page-info").textContent = first + "–" + last + " of " + state.total + " pods · page " +
      (state.page + 1) + "/" + pages;
    $("prev").disabled = state.page === 0;
    $("next").disabled = state.page >= pages - 1;
  }

  function renderSummary(summary) {
    const buttons = HEALTHS.map((health) => {
      const button = el("button", "chip health-" + health, health + " " + summary.health[health]);
      button.type = "button";
      button.dataset.health = health;
      button.setAttribute("aria-pressed", String(state.healths.has(health)));
      button.addEventListener("click", () => {
        if (state.healths.has(health)) state.healths.delete(health); else state.healths.add(health);
        state.page = 0;
        loadPods();
      });
      return button;
    });
    const gone = el("button", "chip gone-chip", "gone " + summary.gone);
    gone.type = "button";
    gone.title = "only the pods that vanished (kept as history)";
    gone.setAttribute("aria-pressed", String(state.goneOnly));
    gone.addEventListener("click", () => { state.goneOnly = !state.goneOnly; state.page = 0; loadPods(); });
    buttons.push(gone);
    $("summary").replaceChildren(...buttons);
    fillSelect($("f-cluster"), [...new Set(summary.clusters.map((c) => c.cluster))], state.cluster);
    const namespaces = summary.namespaces.filter((n) => !state.cluster || n.cluster === state.cluster);
    fillSelect($("f-namespace"), [...new Set(namespaces.map((n) => n.namespace))].sort(), state.namespace);
  }

  function fillSelect(select, values, current) {
    const wanted = current && !values.includes(current) ? [...values, current] : values;
    const existing = [...select.options].slice(1).map((o) => o.value);
    if (existing.join("\n") !== wanted.join("\n")) {
      const options = wanted.map((v) => { const o = el("option", null, v); o.value = v; return o; });
      const all = el("option", null, "all");
      all.value = "";
      select.replaceChildren(all, ...options);
    }
    select.value = current;
  }

  // --------------------------------------------------------------- one pod
  function selectPod(id) {
    if (state.selected !== id) {
      state.selected = id;
      state.container = "";
      state.logLimit = 200;
      $("logs").replaceChildren();
      $("detail").scrollTop = 0;
    }
    for (const li of $("pods").children) {
      const on = Number(li.dataset.id) === id;
      li.classList.toggle("selected", on);
      li.setAttribute("aria-selected", String(on));
    }
    $("detail").hidden = false;
    loadDetail();
    loadLogs();
  }

  async function loadDetail() {
    const id = state.selected;
    if (id === null) return;
    let pod;
    try {
      pod = await getJSON("/api/v1/pods/" + id);
    } catch (error) {
      $("d-meta").textContent = "Could not load the pod: " + error.message;
      return;
    }
    if (state.selected !== id) return;
    keepScroll([$("detail")], () => renderDetail(pod));
  }

  function renderDetail(pod) {
    const detail = $("detail");
    detail.dataset.id = String(pod.id);
    detail.className = "health-" + pod.health + (pod.gone ? " gone" : "");
    $("d-name").textContent = pod.namespace + "/" + pod.name;
    const meta = [pod.cluster, pod.health, pod.status || "", "ready " + (pod.ready || "?"),
                  "restarts " + (pod.restarts_text || pod.restarts), "age " + age(pod.created_at)];
    if (pod.node) meta.push("node " + pod.node);
    if (pod.owner_kind) meta.push(pod.owner_kind + "/" + pod.owner_name);
    if (pod.gone) meta.push("gone since " + new Date(pod.deleted_at).toLocaleString());
    $("d-meta").textContent = meta.join(" · ");

    const top = $("d-top");
    top.replaceChildren();
    if (pod.top) {
      top.append(el("strong", null, (pod.top.container ? pod.top.container + ": " : "") + (pod.top.reason || "")));
      if (pod.top.message) top.append(el("p", "top-message", pod.top.message));
      if (pod.top.hint) top.append(el("p", "pod-hint", pod.top.hint));
    } else {
      top.append(el("span", "meta", "no problem found"));
    }
    $("d-problems").replaceChildren(...pod.problems.map((p) =>
      el("li", null, (p.container ? p.container + ": " : "") + p.message)));

    const rows = pod.containers.map((c) => {
      const tr = el("tr", c.ready === false ? "unready" : "");
      const last = c.last_reason ? c.last_reason + (c.last_exit_code !== null ? " (exit " + c.last_exit_code + ")" : "") : "";
      const reason = (c.reason || "") + (c.message ? ": " + c.message : "") + (c.exit_code !== null ? " (exit " + c.exit_code + ")" : "");
      const logs = c.log_error ? "log unreadable: " + c.log_error
        : c.log_counts.error + " E · " + c.log_counts.exception + " X · " + c.log_counts.warning + " W";
      for (const value of [(c.init ? "init " : "") + c.name, c.state || "", reason, c.restart_count, last, c.image || "", logs]) {
        tr.append(el("td", null, value));
      }
      return tr;
    });
    $("d-containers").tBodies[0].replaceChildren(...rows);
    const names = pod.containers.filter((c) => !c.init).map((c) => c.name)
      .concat(pod.containers.filter((c) => c.init).map((c) => c.name));
    fillSelect($("log-container"), names, state.container);

    $("d-events").replaceChildren(...(pod.events.length ? pod.events.map((e) => {
      const li = el("li", "event event-" + (e.type || "Normal").toLowerCase());
      li.append(el("span", "badge", e.type || "?"), el("strong", null, " " + (e.reason || "")),
                el("span", "meta", " ×" + e.count + " · " + age(e.last_at) + " ago" + (e.source ? " · " + e.source : "")),
                el("div", null, e.message || ""));
      return li;
    }) : [el("li", "meta", "no events")]));
  }

  async function loadLogs() {
    const id = state.selected;
    if (id === null) return;
    const seq = ++state.logsSeq;
    const q = new URLSearchParams();
    for (const level of state.levels) q.append("level", level);
    if (state.container) q.append("container", state.container);
    q.set("limit", String(state.logLimit));
    let page;
    try {
      page = await getJSON("/api/v1/pods/" + id + "/logs?" + q);
    } catch (error) {
      $("log-info").textContent = "Could not load the logs: " + error.message;
      return;
    }
    if (seq !== state.logsSeq || state.selected !== id) return;
    keepScroll([$("detail"), $("logs")], () => {
      $("logs").replaceChildren(...page.items.map((entry) => {
        const li = el("li", "log level-" + entry.level);
        li.dataset.level = entry.level;
        const head = el("div", "log-head");
        head.append(el("span", "badge", entry.level), el("span", "meta",
          " " + entry.container + (entry.previous ? " (previous)" : "") + (entry.ts ? " · " + entry.ts : "")));
        li.append(head, el("pre", "log-text", entry.text));
        return li;
      }));
      const c = page.counts;
      $("log-info").textContent = "showing " + page.items.length + " of " + page.total + " · " +
        c.error + " error · " + c.exception + " exception · " + c.warning + " warning · " + c.info + " info";
      $("logs-more").hidden = page.items.length >= page.total;
    });
    document.body.dataset.logsRefreshes = String(Number(document.body.dataset.logsRefreshes || 0) + 1);
  }

  // --------------------------------------------------------------- wiring
  function schedule() {
    clearInterval(state.podsTimer);
    clearInterval(state.logsTimer);
    state.podsTimer = setInterval(() => { loadPods(); loadDetail(); }, state.podsRefresh * 1000);
    state.logsTimer = setInterval(loadLogs, state.logsRefresh * 1000);
  }

  function debounce(fn, ms) {
    let timer = null;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function wire() {
    $("filters").addEventListener("submit", (event) => event.preventDefault());
    $("f-cluster").addEventListener("change", (e) => { state.cluster = e.target.value; state.namespace = ""; state.page = 0; loadPods(); });
    $("f-namespace").addEventListener("change", (e) => { state.namespace = e.target.value; state.page = 0; loadPods(); });
    $("f-gone").addEventListener("change", (e) => { state.gone = e.target.checked; state.page = 0; loadPods(); });
    const text = debounce(() => { state.text = $("f-text").value.trim(); state.page = 0; loadPods(); }, 250);
    const owner = debounce(() => { state.owner = $("f-owner").value.trim(); state.page = 0; loadPods(); }, 250);
    $("f-text").addEventListener("input", text);
    $("f-owner").addEventListener("input", owner);
    $("prev").addEventListener("click", () => { if (state.page > 0) { state.page--; loadPods(); $("list-pane").scrollTop = 0; } });
    $("next").addEventListener("click", () => { state.page++; loadPods(); $("list-pane").scrollTop = 0; });
    $("d-close").addEventListener("click", () => { state.selected = null; $("detail").hidden = true; selectNone(); });
    for (const button of document.querySelectorAll("#log-filters .level")) {
      button.addEventListener("click", () => {
        const level = button.dataset.level;
        if (state.levels.has(level)) state.levels.delete(level); else state.levels.add(level);
        button.setAttribute("aria-pressed", String(state.levels.has(level)));
        state.logLimit = 200;
        loadLogs();
      });
    }
    $("log-container").addEventListener("change", (e) => { state.container = e.target.value; state.logLimit = 200; loadLogs(); });
    $("logs-more").addEventListener("click", () => { state.logLimit = Math.min(1000, state.logLimit + 200); loadLogs(); });
  }

  function selectNone() {
    for (const li of $("pods").children) { li.classList.remove("selected"); li.setAttribute("aria-selected", "false"); }
  }

  function interval(name, fallback) {
    const value = Number(params.get(name));
    return Number.isFinite(value) && value >= 0.2 ? value : fallback;
  }

  async function start() {
    wire();
    const first = loadPods();  // with the default page size, while the settings load
    try {
      const config = await getJSON("/api/v1/config");
      state.podsRefresh = config.pods_refresh_seconds;
      state.logsRefresh = config.logs_refresh_seconds;
      $("logout").hidden = !config.auth;
      if (config.page_size !== state.pageSize) {
        state.pageSize = config.page_size;
        await first;
        await loadPods();
      }
    } catch (error) {
      $("list-error").textContent = "Could not load the settings: " + error.message;
      $("list-error").hidden = false;
    }
    state.podsRefresh = interval("pods_refresh", state.podsRefresh);
    state.logsRefresh = interval("logs_refresh", state.logsRefresh);
    document.body.dataset.podsRefreshSeconds = String(state.podsRefresh);
    document.body.dataset.logsRefreshSeconds = String(state.logsRefresh);
    await first;
    schedule();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
