// The inbox in English or Simplified Chinese. Pages are written in English; this module
// translates the interface where it appears (text nodes and the aria-label, placeholder
// and title attributes, kept current by a MutationObserver), so every string follows the
// language without each renderer knowing about it. What customers and agents wrote
// (messages, previews, names, labels, notes, canned texts) is never touched.
import { h } from "./dom.js";

const LANG_KEY = "chorus.lang";
export const LANGUAGES = [["en", "English"], ["zh-CN", "简体中文"]];

// Content, not interface: nothing inside these is translated.
const CONTENT = ".text, .preview, .who, .label, .contact-name, .canned, blockquote, pre, td, .me, .detail-head h2";

export const ZH = {
  "Chorus inbox": "Chorus 收件箱", "Email": "邮箱", "Password": "密码", "Log in": "登录",
  "Log out": "退出", "Wrong email or password.": "邮箱或密码错误。",
  "Too many attempts, wait a moment.": "尝试次数过多，请稍候。", "Skip to content": "跳到内容",
  "Inbox": "收件箱", "Moderation": "审核", "Reports": "报表", "Admin": "管理", "Sections": "栏目",
  "connecting…": "连接中…", "● live": "● 实时", "○ reconnecting": "○ 重新连接中",
  "Mine": "我的", "Unassigned": "未分配", "All": "全部", "Resolved": "已解决", "Views": "视图",
  "Channel": "渠道", "Status": "状态", "Label": "标签", "Search": "搜索",
  "Search conversations": "搜索会话", "Conversation list": "会话列表", "Conversations": "会话",
  "Conversation": "会话", "Pick a conversation.": "请选择一个会话。",
  "No conversations here.": "这里没有会话。", "SLA missed": "超出 SLA",
  "Waiting longer than the response target": "等待时间已超过响应目标",
  "Messages": "消息", "Reply": "回复", "Private note": "内部备注", "Send": "发送",
  "Type / for canned responses · Ctrl+Enter sends": "输入 / 使用快捷回复 · Ctrl+Enter 发送",
  "Canned responses": "快捷回复", "Claim": "认领", "Resolve": "解决", "Reopen": "重新打开",
  "Assign to…": "分配给…", "Assign to": "分配给", "Assigned": "已分配", "Add label": "添加标签",
  "Labels": "标签", "Label added": "已添加标签", "Label removed": "已移除标签",
  "Reply sent": "回复已发送", "Note added": "备注已添加", "Contact": "联系人", "Unnamed": "未命名",
  "Identities": "身份", "Earlier conversations": "以往会话", "None": "无", "bot answer": "机器人回答",
  "Bot": "机器人", "Customer is typing…": "客户正在输入…", "Seen": "已读",
  "Alerts": "提醒", "Desktop alerts": "桌面通知", "Sound": "声音",
  "New conversation": "新会话", "New conversation assigned to you": "分配给你的新会话",
  "Conversation assigned to you": "有会话分配给你", "Language": "语言",
  "Moderation queue": "审核队列", "Held comments": "待审评论",
  "Nothing is waiting for review.": "没有待审核的内容。", "Reason": "原因",
  "Reason (needed to reject)": "原因（拒绝时必填）", "Approve": "通过", "Reject": "拒绝",
  "Approved": "已通过", "Rejected": "已拒绝", "Agents": "客服", "Knowledge base": "知识库",
  "Configuration (read-only, secrets masked)": "配置（只读，已隐藏密钥）", "Name": "姓名",
  "Role": "角色", "Presence": "在线状态", "Load": "负载", "Id": "编号", "Question": "问题",
  "Answer": "回答", "Keyboard shortcuts": "键盘快捷键", "Close": "关闭",
  "Next conversation": "下一个会话", "Previous conversation": "上一个会话",
  "Leave the field or close this list": "离开输入框或关闭此列表",
  "Edit contact": "编辑联系人", "Notes": "备注", "Save contact": "保存联系人",
  "Contact saved": "联系人已保存", "Conversations and ratings": "会话与评分", "not rated": "未评分",
  "open": "处理中", "pending": "待处理", "resolved": "已解决", "bot": "机器人",
};

const PATTERNS = [
  [/^(\d+) unread$/, "$1 条未读"], [/^Assigned to (.+)$/, "已分配给 $1"],
  [/^SLA missed ×(\d+)$/, "超出 SLA ×$1"], [/^Contact (\S+)$/, "联系人 $1"],
  [/^Remove label (.+)$/, "移除标签 $1"], [/^(.+) done$/, "$1完成"],
  [/^\((\d+)\) Chorus inbox$/, "($1) Chorus 收件箱"],
];

export function chosenLanguage() {
  const wanted = localStorage.getItem(LANG_KEY) || navigator.language || "en";
  return /^zh/i.test(wanted) ? "zh-CN" : "en";
}

let lang = chosenLanguage();

export function tr(text) {
  if (lang !== "zh-CN" || !text) return text;
  const trimmed = text.trim();
  if (ZH[trimmed]) return text.replace(trimmed, ZH[trimmed]);
  for (const [pattern, into] of PATTERNS) if (pattern.test(trimmed)) return text.replace(trimmed, trimmed.replace(pattern, into));
  return text;
}

// The English each node or attribute was given, so a change of language can go back.
const originals = new WeakMap();

function remember(key, attr, current) {
  const known = originals.get(key) || {};
  if (known[attr] === undefined || tr(known[attr]) !== current) known[attr] = current;
  originals.set(key, known);
  return known[attr];
}

function translateNode(node) {
  if (node.nodeType === Node.TEXT_NODE) {
    if (node.parentElement && node.parentElement.closest(CONTENT)) return;
    const want = tr(remember(node, "text", node.nodeValue));
    if (node.nodeValue !== want) node.nodeValue = want;
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return;
  for (const attr of ["aria-label", "placeholder", "title"]) {
    if (!node.hasAttribute(attr)) continue;
    const want = tr(remember(node, attr, node.getAttribute(attr)));
    if (node.getAttribute(attr) !== want) node.setAttribute(attr, want);
  }
  for (const child of node.childNodes) translateNode(child);
}

function translateTitle() {
  const want = tr(remember(document, "title", document.title));
  if (document.title !== want) document.title = want;
}

// English pages need nothing; Chinese ones are translated now and after every change.
export function startTranslating() {
  document.documentElement.lang = lang;
  if (lang === "en") return;
  const run = () => { translateNode(document.body); translateTitle(); };
  run();
  new MutationObserver(run).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ["aria-label", "placeholder", "title"],
  });
  new MutationObserver(translateTitle).observe(document.querySelector("title"), { childList: true, characterData: true, subtree: true });
}

// A new language starts from the English page again (the session stays).
export function setLanguage(next) {
  localStorage.setItem(LANG_KEY, next);
  location.reload();
}

// The override: a select that keeps the choice in localStorage.
export function languageSwitch() {
  const select = h("select", { id: "language", onchange: () => setLanguage(select.value) },
    LANGUAGES.map(([code, name]) => h("option", { value: code, selected: code === lang }, name)));
  return h("span", { class: "language" }, h("label", { for: "language", class: "sr-only" }, "Language"), select);
}
