// Strings for the reports and administration pages, in English and Chinese, looked up by
// key (i18n.js translates the rest of the inbox where it appears). The language follows
// the browser until the person picks one; the choice is kept in localStorage.
const STRINGS = {
  en: {
    reports: "Reports", language: "中文", range: "Range", today: "Today", "7d": "7 days", "30d": "30 days",
    custom: "Custom", since: "From", until: "To", channel: "Channel", all: "All channels", apply: "Show",
    conversations: "Conversations", responseTimes: "Response times", bot: "The bot", ratings: "Ratings",
    agents: "Agents", moderation: "Moderation", table: "Table", csv: "Download CSV", loading: "Loading…",
    noData: "No data in this range.", newConv: "new", reopened: "reopened",
    frtMedian: "first response, median", frtP90: "first response, p90",
    resMedian: "resolution, median", resP90: "resolution, p90", minutes: "minutes",
    histogram: "Histogram", firstResponse: "first response", resolution: "resolution",
    containment: "containment rate", handoffReasons: "Handoff reasons", unanswered: "Top unanswered questions",
    distribution: "Distribution", average: "average", perAgent: "Per agent", byReason: "By stage and reason",
    approved: "approved", held: "held", rejected: "rejected", count: "count",
    day: "day", agent: "agent", name: "name", handled: "handled", rating: "rating", load: "load",
    median_first_response_seconds: "median first response (s)", median_resolution_seconds: "median resolution (s)",
    question: "question", reason: "reason", score: "score", status: "status", stage: "stage", bin: "bin",
    kind: "kind", new: "new", resolved: "resolved", contained: "contained", containment_rate: "containment rate",
    handoffs: "handoffs", sortBy: "Sort by", days: "by day", handoff_reasons: "handoff reasons",
    by_reason: "by stage and reason", webhookFailures: "External bot webhook failures",
    webhook_failures: "webhook failures", queue: "queue age", pending: "pending",
    oldest_age_seconds: "oldest pending (s)", median_age_seconds: "median pending age (s)",
    adminSections: "Administration sections", adminAgents: "Agents", adminKb: "Knowledge base",
    adminRules: "Moderation rules", adminChannels: "Channels", adminTokens: "Service tokens",
    adminAudit: "Audit log", adminWebhooks: "Webhooks",
    webhooksOff: "Webhooks are not enabled.", adminOverview: "Overview", role: "role", capacity: "capacity",
    slackUser: "Slack user", presence: "presence", enable: "Enable", disable: "Disable", disabled: "disabled",
    online: "online", offline: "offline", email: "Email", firstPassword: "First password (12+ characters)",
    addAgent: "Add agent", saved: "Saved", questions: "Questions (one per line)", answer: "Answer",
    links: "Links (title | URL, one per line)", addEntry: "Add entry", edit: "Edit", save: "Save",
    delete: "Delete", deleted: "Deleted", tryIt: "Try a question", tryButton: "Try", confidence: "confidence",
    botAnswers: "the bot answers with this", belowThreshold: "below the threshold", noMatch: "No entry matches.",
    rulesJson: "Rules (JSON)", versions: "Versions", version: "version", who: "who", when: "when",
    inForce: "in force", rollback: "Roll back to this", noVersions: "No stored versions yet (the rules come from the config).",
    checks: "Checks", check: "check", noPolling: "No channel polls its platform.", scopes: "Scopes (comma-separated)",
    createToken: "Create token", shownOnce: "Copy the token now: it is shown once.", revoked: "revoked",
    revoke: "Revoke", action: "action", target: "target", filter: "Filter",
  },
  "zh-CN": {
    reports: "报表", language: "English", range: "时间范围", today: "今天", "7d": "7 天", "30d": "30 天",
    custom: "自定义", since: "从", until: "到", channel: "渠道", all: "全部渠道", apply: "查看",
    conversations: "会话", responseTimes: "响应时间", bot: "机器人", ratings: "评分",
    agents: "客服", moderation: "审核", table: "表格", csv: "下载 CSV", loading: "加载中…",
    noData: "此范围内没有数据。", newConv: "新会话", reopened: "重新打开",
    frtMedian: "首次响应中位数", frtP90: "首次响应 p90",
    resMedian: "解决时长中位数", resP90: "解决时长 p90", minutes: "分钟",
    histogram: "分布直方图", firstResponse: "首次响应", resolution: "解决时长",
    containment: "机器人独立解决率", handoffReasons: "转人工原因", unanswered: "未能回答的常见问题",
    distribution: "评分分布", average: "平均分", perAgent: "按客服", byReason: "按阶段和原因",
    approved: "已通过", held: "待审核", rejected: "已拒绝", count: "数量",
    day: "日期", agent: "客服", name: "姓名", handled: "已处理", rating: "评分", load: "当前负载",
    median_first_response_seconds: "首次响应中位数（秒）", median_resolution_seconds: "解决时长中位数（秒）",
    question: "问题", reason: "原因", score: "分数", status: "状态", stage: "阶段", bin: "区间",
    kind: "类型", new: "新会话", resolved: "已解决", contained: "机器人解决", containment_rate: "独立解决率",
    handoffs: "转人工", sortBy: "排序", days: "按天", handoff_reasons: "转人工原因",
    by_reason: "按阶段和原因", webhookFailures: "外部机器人 Webhook 失败",
    webhook_failures: "Webhook 失败", queue: "队列等待时长", pending: "待审核",
    oldest_age_seconds: "最久等待（秒）", median_age_seconds: "等待时长中位数（秒）",
    adminSections: "管理分区", adminAgents: "客服", adminKb: "知识库",
    adminRules: "审核规则", adminChannels: "渠道", adminTokens: "服务令牌",
    adminAudit: "审计日志", adminWebhooks: "Webhook 推送",
    webhooksOff: "未启用 Webhook 推送。", adminOverview: "概览", role: "角色", capacity: "容量",
    slackUser: "Slack 用户", presence: "在线状态", enable: "启用", disable: "停用", disabled: "已停用",
    online: "在线", offline: "离线", email: "邮箱", firstPassword: "初始密码（至少 12 个字符）",
    addAgent: "添加客服", saved: "已保存", questions: "问题（每行一个）", answer: "回答",
    links: "链接（标题 | 网址，每行一个）", addEntry: "添加条目", edit: "编辑", save: "保存",
    delete: "删除", deleted: "已删除", tryIt: "试一个问题", tryButton: "试试", confidence: "置信度",
    botAnswers: "机器人会用它回答", belowThreshold: "低于阈值", noMatch: "没有匹配的条目。",
    rulesJson: "规则（JSON）", versions: "版本", version: "版本", who: "操作人", when: "时间",
    inForce: "生效中", rollback: "回滚到此版本", noVersions: "还没有保存的版本（规则来自配置文件）。",
    checks: "检查", check: "检查项", noPolling: "没有需要轮询平台的渠道。", scopes: "权限范围（逗号分隔）",
    createToken: "创建令牌", shownOnce: "请立即复制令牌：它只显示这一次。", revoked: "已吊销",
    revoke: "吊销", action: "操作", target: "对象", filter: "筛选",
  },
};

const KEY = "chorus.lang";

export function language() {
  const chosen = localStorage.getItem(KEY);
  if (chosen && STRINGS[chosen]) return chosen;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

export function setLanguage(lang) { localStorage.setItem(KEY, lang); }

export function t(key) {
  const table = STRINGS[language()];
  return table[key] ?? STRINGS.en[key] ?? key;
}
