// Strings for the reports and administration pages, in English and Chinese, looked up by
// key (i18n.js translates the rest of the inbox where it appears). The language follows
// the browser until the person picks one; the choice is kept in localStorage.
// Exported so a test can check that every English string has its Chinese and none shows.
export const STRINGS = {
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
    id: "Id", option_agent: "agent", option_admin: "admin", option_viewer: "viewer",
    option_any: "any language", option_en: "English", option_zh: "Chinese", entryLanguage: "Language",
    onePerLine: "one per line", saveRules: "Save rules", saveJson: "Save JSON",
    editAsJson: "Edit as JSON (add, remove or reorder stages)", origin_config: "from the config", origin_stored: "stored",
    source_web: "Website comments", source_social: "Social media comments",
    stage_size: "Size and encoding", stage_flood: "Flood", stage_duplicate: "Duplicates", stage_spam: "Spam",
    stage_words: "Word lists", stage_pii: "Personal data", stage_trust: "Author trust", stage_classifier: "Classifier",
    whActive: "active", whFlagged: "paused (kept failing)", whPaused: "paused", whPause: "Pause", whResume: "Resume",
    whPausedDone: "Endpoint paused", whResumedDone: "Endpoint resumed", whDeletedDone: "Endpoint deleted",
    whReplayed: "Dead letter replayed", whReplay: "Replay", whSecretShown: "Signing secret (shown only now, copy it): ",
    whSecret: "Signing secret", whEndpoints: "Webhook endpoints", whUrl: "URL", whEvents: "Events", whState: "State",
    whNoEndpoints: "No endpoints yet.", whDead: "Dead letters", whEvent: "Event", whEventId: "Event id",
    whReason: "Reason", whFailed: "Failed", whNoDead: "No dead letters.", whNew: "New webhook endpoint",
    whUrlLabel: "Endpoint URL", whAdd: "Add endpoint", whAdded: "Endpoint added",
    ready_ready: "ready", ready_not_ready: "not ready",
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
    id: "编号", option_agent: "客服", option_admin: "管理员", option_viewer: "只读",
    option_any: "任意语言", option_en: "英文", option_zh: "中文", entryLanguage: "语言",
    onePerLine: "每行一个", saveRules: "保存规则", saveJson: "保存 JSON",
    editAsJson: "以 JSON 编辑（添加、删除或调整阶段顺序）", origin_config: "来自配置文件", origin_stored: "已保存",
    source_web: "网站评论", source_social: "社交媒体评论",
    stage_size: "长度与编码", stage_flood: "刷屏", stage_duplicate: "重复内容", stage_spam: "垃圾信息",
    stage_words: "词语列表", stage_pii: "个人信息", stage_trust: "作者信任", stage_classifier: "外部分类器",
    whActive: "启用中", whFlagged: "已暂停（持续失败）", whPaused: "已暂停", whPause: "暂停", whResume: "恢复",
    whPausedDone: "端点已暂停", whResumedDone: "端点已恢复", whDeletedDone: "端点已删除",
    whReplayed: "死信已重新投递", whReplay: "重新投递", whSecretShown: "签名密钥（仅此一次显示，请复制）：",
    whSecret: "签名密钥", whEndpoints: "Webhook 端点", whUrl: "网址", whEvents: "事件", whState: "状态",
    whNoEndpoints: "还没有端点。", whDead: "死信", whEvent: "事件", whEventId: "事件编号",
    whReason: "原因", whFailed: "失败时间", whNoDead: "没有死信。", whNew: "新建 Webhook 端点",
    whUrlLabel: "端点网址", whAdd: "添加端点", whAdded: "端点已添加",
    ready_ready: "就绪", ready_not_ready: "未就绪",
  },
};

// The API's refusals in Chinese, by pydantic's error type; {name} is a limit from its ctx.
// A type not listed keeps the API's English message.
const ERRORS_ZH = {
  greater_than_equal: "不能小于 {ge}", greater_than: "必须大于 {gt}", less_than_equal: "不能大于 {le}",
  less_than: "必须小于 {lt}", missing: "必填", string_too_short: "至少 {min_length} 个字符",
  string_too_long: "最多 {max_length} 个字符", too_short: "至少 {min_length} 项", too_long: "最多 {max_length} 项",
  int_type: "请输入整数", int_from_float: "请输入整数", float_type: "请输入数字", bool_type: "请选择是或否",
  string_type: "请输入文字", literal_error: "只能是 {expected}", string_pattern_mismatch: "格式不正确",
  extra_forbidden: "不允许的设置", value_error: "值不正确",
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

// One refused value's message in the page's language: {type, ctx, message} from the API.
export function fieldMessage({ type, ctx = {}, message }) {
  const template = language() === "zh-CN" ? ERRORS_ZH[type] : undefined;
  return template ? template.replace(/\{(\w+)\}/g, (_, name) => String(ctx[name] ?? "")) : message;
}
