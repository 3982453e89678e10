// The helpdesk web chat, built with DOM text nodes only: nothing a document or a user wrote is ever
// parsed as HTML. `server.<fn>(payload)` calls the functions app.py gives the component (desk.py).
(() => {
  const root = element.querySelector("#desk") || element;
  document.documentElement.lang = "zh-CN"; // screen readers read the page as Chinese
  const STORE = "policyqa.desk.v1";
  const MAX_CONVERSATIONS = 50;
  const PHONE = window.matchMedia("(max-width: 640px)");
  const timings = (window.deskTimings = window.deskTimings || []);
  let session = { documents: [], examples: [], admin: false, types: [], max_upload: 0 };
  let store = load();
  let picked = [];
  let browseState = { doc: null, data: null };

  // -- small DOM helpers ------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (k === "hidden") el.hidden = true;
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }
  const button = (text, attrs = {}) => h("button", { type: "button", ...attrs }, text);
  function say(el, text, tone = "ok") {
    el.textContent = text;
    el.dataset.tone = tone;
    el.scrollIntoView({ block: "nearest" });
  }
  async function call(fn, payload) {
    try {
      const out = await server[fn](payload);
      if (out && out.error) return { error: out.error };
      return out || { error: "连接出错,请检查网络后重试;如果一再出现,请联系管理员。" };
    } catch (e) {
      return { error: "连接出错,请检查网络后重试;如果一再出现,请联系管理员。" };
    }
  }
  function download(name, b64, mime) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: mime || "application/octet-stream" }));
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }
  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      const area = h("textarea", { class: "desk-offscreen", "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      return ok;
    }
  }

  // -- conversations kept in this browser -------------------------------------------------------
  function load() {
    try {
      const data = JSON.parse(localStorage.getItem(STORE) || "null");
      if (data && Array.isArray(data.conversations)) return data;
    } catch (e) { /* a damaged store starts afresh */ }
    return { conversations: [], current: null };
  }
  function save() {
    store.conversations = store.conversations.slice(0, MAX_CONVERSATIONS);
    for (;;) {
      try {
        localStorage.setItem(STORE, JSON.stringify(store));
        return;
      } catch (e) {
        if (store.conversations.length <= 1) return;
        store.conversations.pop(); // the browser's storage is full: the oldest conversation goes
      }
    }
  }
  const current = () => store.conversations.find((c) => c.id === store.current) || null;
  function newConversation() {
    store.current = null;
    save();
    renderConversation();
    renderHistory();
    composer.box.focus();
  }
  function ensureConversation(question) {
    let conv = current();
    if (!conv) {
      conv = { id: "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6), title: question.slice(0, 30),
               created: new Date().toISOString(), turns: [] };
      store.conversations.unshift(conv);
      store.current = conv.id;
    }
    return conv;
  }

  // -- layout -----------------------------------------------------------------------------------
  const head = h("header", { class: "desk-head" },
    h("div", { class: "desk-brand" },
      h("h1", { text: "安全生产政策问答" }),
      h("p", { class: "desk-sub", text: "依据文件原文回答:每个回答注明出处条目并引用原文;文件没有写到的会直接说明。" })),
    h("div", { class: "desk-head-actions" },
      button("历史对话", { class: "desk-btn desk-history-toggle", "aria-expanded": "false", "aria-controls": "desk-history",
                          onclick: () => toggleHistory() }),
      button("新对话", { class: "desk-btn desk-primary-soft", id: "new-chat", onclick: () => { showTab("chat"); newConversation(); } })));
  const tabs = h("nav", { class: "desk-tabs", role: "tablist", "aria-label": "功能" });
  const panels = {};
  function addTab(key, label) {
    const tab = button(label, { class: "desk-tab", role: "tab", id: `tab-${key}`, "aria-controls": `panel-${key}`,
                               "aria-selected": "false", onclick: () => showTab(key) });
    tabs.append(tab);
    panels[key] = h("section", { class: "desk-panel", id: `panel-${key}`, role: "tabpanel", "aria-labelledby": `tab-${key}`, hidden: true });
    return panels[key];
  }
  function showTab(key, load = true) {
    for (const [k, panel] of Object.entries(panels)) {
      panel.hidden = k !== key;
      tabs.querySelector(`#tab-${k}`).setAttribute("aria-selected", String(k === key));
    }
    if (key === "browse" && load && !browseState.data) loadBrowse(null);
    if (key === "admin") renderAdmin();
  }

  // chat panel
  const chatPanel = addTab("chat", "问答");
  const historyList = h("ul", { class: "desk-history-list" });
  const history = h("aside", { class: "desk-history", id: "desk-history", "aria-label": "历史对话" },
    h("h2", { text: "历史对话" }), historyList,
    h("p", { class: "desk-note", text: "对话只保存在这台电脑的浏览器里。" }));
  const picker = h("fieldset", { class: "desk-picker", hidden: true },
    h("legend", { text: "在哪些文件里找" }));
  const examples = h("div", { class: "desk-examples", id: "examples" });
  const intro = h("div", { class: "desk-intro" },
    h("p", { class: "desk-intro-title", text: "请输入问题,或点击下面的示例" }),
    h("p", { class: "desk-note", text: "可以问牵头单位、配合单位、完成时限、某个部门负责哪些工作、第几条讲什么;也可以接着追问,例如“那它的完成时限呢?”" }),
    examples);
  const log = h("div", { class: "desk-log", id: "chat", "aria-live": "polite" });
  const convTools = h("div", { class: "desk-conv-tools", hidden: true },
    button("导出 Word", { class: "desk-btn", onclick: () => exportConversation("docx") }),
    button("导出 Markdown", { class: "desk-btn", onclick: () => exportConversation("md") }),
    h("span", { class: "desk-status", role: "status" }));
  const composer = (() => {
    const box = h("textarea", { id: "question", rows: "1", "aria-label": "问题", enterkeyhint: "send", maxlength: "2000" });
    const send = button("提问", { class: "desk-btn desk-primary", id: "send" });
    const form = h("form", { class: "desk-composer", onsubmit: (e) => { e.preventDefault(); submit(); } }, box, send);
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submit();
      }
    });
    box.addEventListener("input", () => { box.style.height = "auto"; box.style.height = Math.min(box.scrollHeight, 160) + "px"; });
    send.addEventListener("click", () => submit());
    return { form, box, send };
  })();
  const main = h("div", { class: "desk-main" }, picker, intro, log, convTools, composer.form);
  chatPanel.append(h("div", { class: "desk-chat" }, history, main));

  function placeholder() {
    composer.box.placeholder = PHONE.matches ? "输入问题,回车提问" : "输入问题,例如:燃气安全由谁牵头?回车提问,Shift+回车换行";
  }
  PHONE.addEventListener("change", placeholder);
  placeholder();
  function toggleHistory(open) {
    const show = open === undefined ? !history.classList.contains("open") : open;
    history.classList.toggle("open", show);
    head.querySelector(".desk-history-toggle").setAttribute("aria-expanded", String(show));
  }

  const browsePanel = addTab("browse", "浏览文件");
  const adminPanel = addTab("admin", "管理");
  tabs.querySelector("#tab-admin").hidden = true;
  root.append(head, tabs, ...Object.values(panels));

  // -- asking -----------------------------------------------------------------------------------
  let busy = false;
  async function submit(text) {
    const question = (text === undefined ? composer.box.value : text).trim();
    if (!question || busy) return;
    const started = performance.now();
    busy = true;
    composer.send.disabled = true;
    const conv = ensureConversation(question);
    const records = conv.turns.filter((t) => t.type === "answer").map((t) => t.record).slice(-8);
    const pending = renderTurn({ type: "pending", question });
    log.append(pending);
    intro.hidden = true;
    if (text === undefined) { composer.box.value = ""; composer.box.style.height = "auto"; }
    const out = await call("ask", { question, history: records, docs: picked });
    const turn = out.error ? { type: "notice", tone: "error", text: out.error, question } : { ...out, question: out.question || question };
    if (turn.type === "notice") turn.question = question;
    const el = renderTurn(turn);
    pending.replaceWith(el);
    el.scrollIntoView({ block: "start" });
    // Enter to the answer painted: the frame that shows it, then the task after that frame
    requestAnimationFrame(() => setTimeout(() => timings.push({ question, ms: performance.now() - started }), 0));
    conv.turns.push(turn);
    save();
    renderHistory();
    convTools.hidden = false;
    busy = false;
    composer.send.disabled = false;
  }

  function renderConversation() {
    log.replaceChildren();
    const conv = current();
    const turns = conv ? conv.turns : [];
    for (const t of turns) log.append(renderTurn(t));
    intro.hidden = turns.length > 0;
    convTools.hidden = turns.length === 0;
  }

  function renderTurn(t) {
    const q = h("div", { class: "desk-q" }, h("span", { class: "desk-q-label", text: "问" }), h("p", { text: shown(t.question || "") }));
    const article = h("article", { class: "desk-turn", "data-kind": t.kind || t.type }, q);
    if (t.type === "pending") {
      article.append(h("div", { class: "desk-a desk-pending", role: "status" }, "正在查找…"));
      return article;
    }
    if (t.type === "notice") {
      article.append(h("div", { class: `desk-a qa-reply desk-notice desk-${t.tone || "warn"}` }, h("p", { class: "desk-a-text", text: t.text })));
      return article;
    }
    article.append(renderAnswer(t));
    return article;
  }
  const shown = (q) => (q.length > 200 ? q.slice(0, 200) + "…" : q);

  function renderAnswer(v) {
    const cls = v.refused ? "desk-refused" : v.kind === "clarify" ? "desk-clarify" : "desk-ok";
    const box = h("div", { class: `desk-a qa-reply ${cls}`, "data-id": v.id });
    box.append(h("span", { class: "desk-badge", text: v.label }));
    box.append(h("p", { class: "desk-a-text", text: v.answer }));
    if (v.refused) box.append(h("p", { class: "desk-why", text: "系统只根据文件原文回答;文件没有写到的内容不会推测。" }));
    if (v.candidates && v.candidates.length) {
      box.append(h("div", { class: "desk-cands", role: "group", "aria-label": "可以这样问" },
        v.candidates.map((c) => button(c.question, { class: "desk-chip desk-cand", onclick: () => submit(c.question) }))));
    }
    if (v.table) box.append(renderTable(v.table));
    if (v.cards && v.cards.length) {
      const cards = v.cards.map((c, i) => renderCard(c, i + 1, v.kind === "item"));
      if (v.set) {
        box.append(h("details", { class: "desk-cites-all" },
          h("summary", { text: `查看全部${v.count}条出处` }), cards));
      } else {
        box.append(h("div", { class: "desk-cites" }, h("p", { class: "desk-cites-head", text: `出处(${v.cards.length})` }), cards));
      }
    }
    box.append(renderTools(v));
    if (v.chips && v.chips.length) {
      box.append(h("div", { class: "desk-chips", role: "group", "aria-label": "接着问" },
        h("span", { class: "desk-chips-label", text: "接着问:" }),
        v.chips.map((c) => button(c, { class: "desk-chip", onclick: () => submit(c) }))));
    }
    return box;
  }

  function renderTable(t) {
    const table = h("table", { class: "desk-table desk-answer-table" },
      h("thead", {}, h("tr", {}, t.columns.map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, t.rows.map((r) => h("tr", {}, r.map((c, i) => h("td", { text: c, "data-label": t.columns[i] }))))));
    const status = h("span", { class: "desk-status", role: "status" });
    const tsv = [t.columns, ...t.rows].map((r) => r.join("\t")).join("\n");
    return h("div", { class: "desk-table-box" },
      h("div", { class: "desk-table-wrap" }, table),
      h("div", { class: "desk-table-tools" },
        button("复制表格", { class: "desk-btn desk-small", onclick: async () => say(status, (await copyText(tsv)) ? "表格已复制,可直接粘贴到表格软件。" : "复制失败,请手动选择表格复制。") }),
        status));
  }

  function renderCard(c, n, open) {
    const full = h("div", { class: "desk-card-full" });
    const at = c.quote ? c.context.indexOf(c.quote) : -1;
    if (at < 0) full.append(c.context);
    else full.append(c.context.slice(0, at), h("mark", { text: c.quote }), c.context.slice(at + c.quote.length));
    const details = h("details", { class: "desk-card qa-card", open: open || null },
      h("summary", {},
        h("span", { class: "desk-card-n", text: String(n) }),
        h("span", { class: "desk-card-ref", text: c.ref }),
        h("span", { class: "desk-card-title", text: c.title }),
        h("span", { class: "desk-card-doc", text: `《${c.doc}》` + (c.section ? ` · ${c.section}` : "") }),
        h("span", { class: "desk-card-quote", text: c.quote }),
        h("span", { class: "desk-card-more", "aria-hidden": "true", text: "展开原文" })),
      full);
    if (c.path) {
      details.append(h("div", { class: "desk-card-tools" },
        button("在浏览文件中查看", { class: "desk-btn desk-small desk-open-task", onclick: () => openTask(c.doc_id, c.path) })));
    }
    return details;
  }

  function renderTools(v) {
    const status = h("span", { class: "desk-status", role: "status" });
    const up = button("赞", { class: "desk-btn desk-small desk-up", "aria-pressed": "false", "aria-label": "赞:回答有帮助" });
    const down = button("踩", { class: "desk-btn desk-small desk-down", "aria-pressed": "false", "aria-label": "踩:回答没有帮助" });
    const reason = h("textarea", { class: "desk-reason-text", rows: "2", maxlength: "300", "aria-label": "没有帮助的原因",
                                   placeholder: "哪里不对?例如:牵头单位错了、漏了条目、没有回答问题(选填)" });
    const reasonForm = h("form", { class: "desk-reason", hidden: true },
      reason, button("提交原因", { class: "desk-btn desk-small", type: "submit" }));
    let rating = v.rating || null;
    const paint = () => {
      up.setAttribute("aria-pressed", String(rating === "up"));
      down.setAttribute("aria-pressed", String(rating === "down"));
    };
    paint();
    async function send(next, why) {
      const out = await call("feedback", { rating: next, record: v.record, sig: v.sig, reason: why || "" });
      if (out.error) return say(status, out.error, "error");
      rating = next === "withdrawn" ? null : next;
      v.rating = rating;
      save();
      paint();
      say(status, out.text);
    }
    up.addEventListener("click", () => { reasonForm.hidden = true; send(rating === "up" ? "withdrawn" : "up"); });
    down.addEventListener("click", async () => {
      if (rating === "down") { reasonForm.hidden = true; return send("withdrawn"); }
      await send("down");
      if (rating === "down") { reasonForm.hidden = false; reason.focus({ preventScroll: true }); reasonForm.scrollIntoView({ block: "nearest" }); }
    });
    reasonForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      await send("down", reason.value.trim());
      reasonForm.hidden = true;
    });
    const copy = button("复制", { class: "desk-btn desk-small desk-copy", "aria-label": "复制回答(含出处)",
      onclick: async () => say(status, (await copyText(v.plain)) ? "已复制回答和出处。" : "复制失败,请手动选择文字复制。") });
    return h("div", { class: "desk-a-foot" }, h("div", { class: "desk-tools" }, copy, up, down, status), reasonForm);
  }

  async function exportConversation(format) {
    const conv = current();
    const status = convTools.querySelector(".desk-status");
    if (!conv) return;
    const turns = conv.turns.filter((t) => t.type === "answer").map((t) => t.record);
    if (!turns.length) return say(status, "这个对话还没有回答可以导出。", "error");
    const out = await call("export", { format, title: conv.title, turns });
    if (out.error) return say(status, out.error, "error");
    download(out.name, out.data, out.mime);
    say(status, `已导出:${out.name}`);
  }

  // -- history list -----------------------------------------------------------------------------
  function renderHistory() {
    historyList.replaceChildren();
    if (!store.conversations.length) historyList.append(h("li", { class: "desk-note", text: "还没有对话。" }));
    for (const conv of store.conversations) {
      const open = button(conv.title || "未命名对话", { class: "desk-history-open", "aria-current": conv.id === store.current ? "true" : null,
        onclick: () => { store.current = conv.id; save(); renderConversation(); renderHistory(); toggleHistory(false); showTab("chat"); } });
      const actions = h("span", { class: "desk-history-actions" },
        button("重命名", { class: "desk-link", "aria-label": `重命名对话:${conv.title}`, onclick: () => rename(li, conv) }),
        button("删除", { class: "desk-link", "aria-label": `删除对话:${conv.title}`, onclick: () => confirmDelete(li, conv) }));
      const li = h("li", { class: "desk-history-item" }, open, actions);
      historyList.append(li);
    }
  }
  function rename(li, conv) {
    const input = h("input", { class: "desk-input", value: conv.title, "aria-label": "对话名称", maxlength: "60" });
    const done = (keep) => {
      if (keep && input.value.trim()) conv.title = input.value.trim();
      save();
      renderHistory();
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); done(true); }
      if (e.key === "Escape") done(false);
    });
    li.replaceChildren(input, button("保存", { class: "desk-link", onclick: () => done(true) }), button("取消", { class: "desk-link", onclick: () => done(false) }));
    input.focus();
    input.select();
  }
  function confirmDelete(li, conv) {
    li.replaceChildren(h("span", { class: "desk-warn-text", text: `删除“${conv.title}”?` }),
      button("确认删除", { class: "desk-link desk-danger", onclick: () => {
        store.conversations = store.conversations.filter((c) => c.id !== conv.id);
        if (store.current === conv.id) { store.current = null; renderConversation(); }
        save();
        renderHistory();
      } }),
      button("取消", { class: "desk-link", onclick: () => renderHistory() }));
  }

  // -- documents: the picker and the browse panel -------------------------------------------------
  function renderPicker() {
    const docs = session.documents;
    picker.hidden = docs.length < 2;
    picker.replaceChildren(h("legend", { text: "在哪些文件里找(不选即全部文件)" }));
    picked = picked.filter((id) => docs.some((d) => d.id === id));
    for (const d of docs) {
      const box = h("input", { type: "checkbox", value: d.id, checked: picked.includes(d.id) || null });
      box.addEventListener("change", () => {
        picked = [...picker.querySelectorAll("input:checked")].map((x) => x.value);
      });
      picker.append(h("label", { class: "desk-pick" }, box, d.title));
    }
  }

  async function loadBrowse(doc, then) {
    browsePanel.replaceChildren(h("p", { class: "desk-note", text: "正在载入…" }));
    const out = await call("browse", { doc });
    if (out.error) return browsePanel.replaceChildren(h("p", { class: "desk-error", text: out.error }));
    browseState = { doc: out.document && out.document.id, data: out };
    renderBrowse();
    if (then) then();
  }

  function renderBrowse() {
    const { documents, document: d } = browseState.data;
    if (!d) return browsePanel.replaceChildren(h("p", { class: "desk-note", text: "还没有文件。" }));
    const select = h("select", { class: "desk-input", id: "browse-doc", "aria-label": "选择文件" },
      documents.map((x) => h("option", { value: x.id, selected: x.id === d.id || null, text: x.title })));
    select.addEventListener("change", () => loadBrowse(select.value));
    const dept = h("input", { class: "desk-input", id: "filter-department", type: "search", autocomplete: "off",
                              placeholder: "输入部门名称筛选,如:应急", "aria-label": "按部门筛选" });
    const suggest = h("ul", { class: "desk-suggest", role: "listbox", "aria-label": "部门", hidden: true });
    const section = h("select", { class: "desk-input", id: "filter-section", "aria-label": "按部分筛选" },
      h("option", { value: "", text: "全部部分" }), d.sections.map((s, i) => h("option", { value: String(i), text: s.heading || "条目" })));
    const summary = h("p", { class: "desk-browse-summary", role: "status" });
    const list = h("div", { class: "desk-browse-list", id: "browse" });
    const report = h("details", { class: "desk-report" }, h("summary", { text: "解析报告" }),
      parseReport(d),
      d.notes.length ? h("ul", { class: "desk-notes" }, d.notes.map((w) => h("li", { text: w }))) : null);
    const original = button("下载原文件", { class: "desk-btn", onclick: async () => {
      const out = await call("original", { doc: d.id });
      if (out.error) return say(summary, out.error, "error");
      download(out.name, out.data);
    } });
    const filter = () => {
      const words = dept.value.trim();
      const s = section.value;
      let shown = 0;
      list.querySelectorAll(".desk-sec").forEach((sec) => {
        let inSec = 0;
        sec.hidden = s !== "" && sec.dataset.index !== s;
        sec.querySelectorAll(".desk-task").forEach((task) => {
          const ok = !sec.hidden && (!words || task.dataset.departments.includes(words));
          task.hidden = !ok;
          if (ok) inSec++;
        });
        if (inSec === 0) sec.hidden = true;
        shown += inSec;
      });
      summary.textContent = (words ? `含“${words}”的部门参与的条目 · ` : "") + `共${shown}条`;
      const exact = d.departments.includes(words); // a chosen name: the list offers every other one
      const matches = words && !exact ? d.departments.filter((n) => n.includes(words)) : d.departments;
      suggest.replaceChildren(...matches.map((n) => h("li", { role: "option", tabindex: "-1", text: n,
        onmousedown: (e) => { e.preventDefault(); dept.value = n; suggest.hidden = true; filter(); } })));
    };
    dept.addEventListener("input", () => { suggest.hidden = false; filter(); });
    dept.addEventListener("focus", () => { dept.select(); suggest.hidden = false; filter(); }); // typing replaces
    dept.addEventListener("blur", () => { suggest.hidden = true; });
    dept.addEventListener("keydown", (e) => { if (e.key === "Escape") suggest.hidden = true; });
    section.addEventListener("change", filter);
    d.sections.forEach((s, i) => {
      const sec = h("div", { class: "desk-sec", "data-index": String(i) }, s.heading ? h("h3", { text: s.heading }) : null);
      for (const it of s.items) sec.append(renderTask(it));
      list.append(sec);
    });
    browsePanel.replaceChildren(
      h("div", { class: "desk-browse-head" },
        documents.length > 1 ? select : h("h2", { text: d.title }),
        h("div", { class: "desk-browse-meta" }, d.meta.map(([k, v]) => h("span", { text: `${k}:${v}` }))),
        original),
      report,
      h("div", { class: "desk-filters" },
        h("label", { class: "desk-field" }, h("span", { text: "部分" }), section),
        h("div", { class: "desk-field desk-dept" }, h("label", { for: "filter-department", text: "部门" }), dept, suggest)),
      summary, list);
    filter();
    suggest.hidden = true;
    browseState.clear = () => { dept.value = ""; section.value = ""; filter(); suggest.hidden = true; };
  }

  // a parse report (rows of [label, value]) and its warnings, in 浏览文件 and in an upload's preview
  function parseReport({ report, warnings }) {
    return [
      h("table", { class: "desk-table desk-report-table" },
        h("tbody", {}, report.map(([k, v]) => h("tr", {}, h("th", { scope: "row", text: k }), h("td", { text: v }))))),
      warnings.length ? h("ul", { class: "desk-warnings" }, warnings.map((w) => h("li", { text: w })))
        : h("p", { class: "desk-note", text: "没有解析问题。" }),
    ];
  }

  function renderTask(it) {
    const rows = [["牵头", (it.lead.join("、") || "未写明") + (it.lead_rule ? `(${it.lead_rule})` : "")], ["配合", it.co.join("、") || "—"]];
    if (it.local.length) rows.push(["属地", it.local.join(";")]);
    if (it.deadlines.length) rows.push(["时限", it.deadlines.join(";")]);
    return h("details", { class: "desk-task desk-card", "data-path": it.path, "data-departments": it.departments.join("|") },
      h("summary", {},
        h("span", { class: "desk-card-ref", text: it.path }),
        h("span", { class: "desk-card-title", text: it.title }),
        h("span", { class: "desk-card-doc", text: `牵头:${it.lead.join("、") || "未写明"}` }),
        h("span", { class: "desk-card-more", "aria-hidden": "true", text: "展开" })),
      h("dl", { class: "desk-units" }, rows.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
      h("div", { class: "desk-card-full", text: it.text }));
  }

  function openTask(docId, path) {
    showTab("browse", false);
    const go = () => {
      if (browseState.clear) browseState.clear();
      const task = [...browsePanel.querySelectorAll(".desk-task")].find((t) => t.dataset.path === path);
      if (!task) return;
      task.open = true;
      task.classList.add("desk-flash");
      setTimeout(() => task.classList.remove("desk-flash"), 2000);
      task.scrollIntoView({ block: "start" });
    };
    if (browseState.doc === docId && browseState.data) go();
    else loadBrowse(docId, go);
  }

  // -- admin ------------------------------------------------------------------------------------
  function renderAdmin() {
    if (!session.admin) return adminPanel.replaceChildren(h("p", { class: "desk-note", text: "需要管理员账号登录。" }));
    const status = h("p", { class: "desk-status", role: "status" });
    const docs = h("ul", { class: "desk-admin-docs" }, session.documents.map((d) => {
      const li = h("li", {}, h("span", { text: `${d.title}(${d.id},${d.tasks}条)` }));
      li.append(button("删除", { class: "desk-link desk-danger", "aria-label": `删除文件:${d.title}`, onclick: () => {
        const keep = [...li.childNodes];
        li.replaceChildren(h("span", { class: "desk-warn-text", text: `从文件库删除“${d.title}”?` }),
          button("确认删除", { class: "desk-link desk-danger", onclick: async () => {
            const out = await call("admin", { op: "remove", doc: d.id });
            if (out.error) return say(status, out.error, "error");
            session.documents = out.documents;
            renderPicker();
            browseState = { doc: null, data: null };
            renderAdmin();
            say(adminPanel.querySelector(".desk-status"), out.text);
          } }),
          button("取消", { class: "desk-link", onclick: () => li.replaceChildren(...keep) }));
      } }));
      return li;
    }));
    const file = h("input", { type: "file", id: "admin-file", accept: session.types.join(","), "aria-label": "选择要上传的文件" });
    const preview = h("div", { class: "desk-preview", id: "admin-preview" });
    file.addEventListener("change", () => stageFile(file, preview, status));
    adminPanel.replaceChildren(
      h("h2", { text: "文件管理" }),
      h("p", { class: "desk-note", text: `上传 ${session.types.join("、")} 文件(不超过 ${Math.floor(session.max_upload / 1048576)} MB);先看解析报告,确认后再发布。同名文件会被替换。` }),
      h("label", { class: "desk-upload desk-btn", for: "admin-file" }, "选择文件上传"), file, status, preview,
      h("h3", { text: "现有文件" }), docs,
      renderFeedbackAdmin());
  }

  async function stageFile(input, preview, status) {
    const f = input.files && input.files[0];
    input.value = "";
    if (!f) return;
    if (f.size > session.max_upload) return say(status, `文件太大(${(f.size / 1048576).toFixed(1)} MB),上限 ${Math.floor(session.max_upload / 1048576)} MB。`, "error");
    say(status, `正在读取 ${f.name}…`);
    const data = await new Promise((resolve) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result).split(",")[1] || "");
      r.onerror = () => resolve(null);
      r.readAsDataURL(f);
    });
    if (data === null) return say(status, "无法读取这个文件。", "error");
    const out = await call("admin", { op: "stage", name: f.name, data });
    if (out.error) { preview.replaceChildren(); return say(status, out.error, "error"); }
    say(status, `已读取 ${out.name}:请检查解析报告,确认后发布。`);
    const publish = button(out.replace ? "替换并发布" : "发布", { class: "desk-btn desk-primary", onclick: async () => {
      publish.disabled = true;
      say(status, "正在发布,建立索引…");
      const done = await call("admin", { op: "publish", token: out.token });
      if (done.error) { publish.disabled = false; return say(status, done.error, "error"); }
      session.documents = done.documents;
      renderPicker();
      browseState = { doc: null, data: null };
      renderAdmin();
      say(adminPanel.querySelector(".desk-status"), done.text);
    } });
    const discard = button("放弃", { class: "desk-btn", onclick: async () => {
      const done = await call("admin", { op: "discard", token: out.token });
      preview.replaceChildren();
      say(status, done.error || done.text, done.error ? "error" : "ok");
    } });
    preview.replaceChildren(...[
      h("h3", { text: `解析报告:${out.title}` }),
      out.replace ? h("p", { class: "desk-warn-text", text: `文件库里已有 ${out.name},发布会替换它。` }) : null,
      ...parseReport(out),
      out.tasks.length ? h("div", { class: "desk-table-wrap" }, h("table", { class: "desk-table" },
        h("thead", {}, h("tr", {}, ["条目", "标题", "牵头单位"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, out.tasks.map((t) => h("tr", {}, [t.path, t.title, t.lead].map((c) => h("td", { text: c }))))))) : null,
      out.total > out.tasks.length ? h("p", { class: "desk-note", text: `共${out.total}条,上表列出前${out.tasks.length}条。` }) : null,
      h("div", { class: "desk-row" }, publish, discard)].filter(Boolean));
    preview.scrollIntoView({ block: "start" });
  }

  function renderFeedbackAdmin() {
    const rating = h("select", { class: "desk-input", "aria-label": "评价" },
      h("option", { value: "", text: "全部评价" }), h("option", { value: "down", text: "只看踩" }), h("option", { value: "up", text: "只看赞" }));
    const words = h("input", { class: "desk-input", type: "search", placeholder: "问题、回答或原因中的文字", "aria-label": "按文字筛选" });
    const status = h("span", { class: "desk-status", role: "status" });
    const body = h("div", { class: "desk-feedback-list", id: "feedback-list" });
    const query = async (csv) => {
      const out = await call("admin", { op: "feedback", rating: rating.value, text: words.value, csv: csv || false });
      if (out.error) return say(status, out.error, "error");
      if (csv) { download(out.csv.name, out.csv.data, out.csv.mime); return say(status, `已导出 ${out.total} 条。`); }
      status.textContent = `共${out.total}条`;
      body.replaceChildren(out.rows.length ? h("div", { class: "desk-table-wrap" }, h("table", { class: "desk-table" },
        h("thead", {}, h("tr", {}, ["时间", "评价", "原因", "问题", "回答", "出处"].map((c) => h("th", { scope: "col", text: c })))),
        h("tbody", {}, out.rows.map((r) => h("tr", {}, h("td", { text: r.time }), h("td", { text: r.rating }), h("td", { text: r.reason || "—" }),
          h("td", { text: r.question }), h("td", { text: r.answer }), h("td", {}, r.citations.map((c) => h("div", { text: c })))))))) :
        h("p", { class: "desk-note", text: "没有符合条件的反馈。" }));
    };
    rating.addEventListener("change", () => query());
    words.addEventListener("input", () => query());
    setTimeout(() => query(), 0);
    return h("section", { class: "desk-feedback-admin" }, h("h2", { text: "用户反馈" }),
      h("div", { class: "desk-filters" }, rating, words, button("导出 CSV", { class: "desk-btn", onclick: () => query(true) }), status), body);
  }

  // -- start ------------------------------------------------------------------------------------
  (async () => {
    const out = await call("session", {});
    if (out.error) {
      log.append(renderTurn({ type: "notice", tone: "error", text: out.error, question: "" }));
      return;
    }
    session = out;
    examples.replaceChildren(...session.examples.map((q) => button(q, { class: "desk-chip", onclick: () => submit(q) })));
    tabs.querySelector("#tab-admin").hidden = !session.admin;
    renderPicker();
    renderHistory();
    renderConversation();
    showTab("chat");
    root.dataset.ready = "true";
  })();
  tabs.querySelector("#tab-chat").setAttribute("aria-selected", "true");
  panels.chat.hidden = false;
})();
