// The Chinese words for the API's codes, in one place.

export const ROLE = { agent: "客服/管家", technician: "维修师傅", supervisor: "主管", admin: "管理员" };
export const KIND = { repair: "报修", complaint: "投诉" };
export const PRIORITY = { emergency: "急修", urgent: "紧急", normal: "一般", low: "低" };
export const STATUS = {
  new: "待派单",
  assigned: "已派单",
  in_progress: "处理中",
  on_hold: "已挂起",
  resolved: "待评价",
  reopened: "重新打开",
  closed: "已办结",
  cancelled: "已取消",
};
export const OPEN_STATUSES = ["new", "assigned", "in_progress", "on_hold", "reopened"];
// domain/tickets.py TRANSITIONS (ASSIGNED only through 派单, so never offered as a status)
export const TRANSITIONS = {
  new: ["cancelled"],
  assigned: ["in_progress", "on_hold", "resolved", "cancelled"],
  in_progress: ["on_hold", "resolved", "cancelled"],
  on_hold: ["in_progress", "cancelled"],
  resolved: ["closed", "reopened"],
  reopened: ["in_progress", "cancelled"],
  closed: [],
  cancelled: [],
};
// What a technician may do without "tickets.close" (domain/staff.py WORK_STATUSES)
export const WORK_STATUSES = ["in_progress", "on_hold", "resolved"];
export const CATEGORY = {
  lift: "电梯",
  gas: "燃气",
  low_voltage: "弱电",
  public_facility: "公共设施",
  plumbing: "水暖",
  electrical: "电气",
  doors_windows: "门窗",
  structure: "土建",
  falling_objects: "高空抛物",
  renovation: "装修",
  noise: "噪音",
  pets: "宠物",
  parking: "停车",
  hygiene: "卫生",
  security: "安全",
  staff_conduct: "服务态度",
  illegal_building: "违建",
  fees: "费用",
  other: "其他",
};
export const REPAIR_CATEGORIES = [
  "lift", "gas", "low_voltage", "public_facility", "plumbing", "electrical", "doors_windows", "structure", "other",
];
export const COMPLAINT_CATEGORIES = [
  "falling_objects", "renovation", "noise", "pets", "parking", "hygiene", "security", "staff_conduct",
  "illegal_building", "fees", "other",
];
export const CHANNEL = {
  webchat: "网页",
  wechat: "公众号",
  wechat_kf: "微信客服",
  sms: "短信",
  phone: "电话",
  wecom: "企业微信",
  mailbox: "网页",
};
// Channels an owner talks through (a ticket opened by staff has a "staff:" contact, no conversation).
export const OWNER_CHANNELS = ["webchat", "wechat", "wechat_kf", "sms", "phone"];
export const EVENT = {
  opened: "创建",
  assigned: "派单",
  status: "状态变更",
  note: "内部备注",
  chase: "业主催单",
  rating: "业主评价",
  merged: "合并",
  sla_warning: "时限预警",
  sla_escalation: "超时升级",
  synced: "同步到物业系统",
  priority: "改为普通报修",
};
export const DELIVERY = { pending: "发送中", delivered: "已送达", dead: "发送失败", received: "已收到", answered: "已回复", failed: "未回复" };
export const OUT_KIND = {
  staff: "客服",
  staff_message: "客服",
  late_reply: "助手（补发）",
  conversation_state: "会话状态",
};
export const REASON = {
  requested: "业主要求人工",
  not_understood: "两次未能理解",
  emergency: "紧急情况",
  assistant_unreachable: "助手暂时无法连接",
  call_not_transcribed: "电话未能转写",
  staff_took_over: "客服主动接管",
};

export const label = (table, code) => (code ? table[code] || code : "—");

/** The actor as people say it ("owner" is the owner, "system" the scheduler); ``names`` maps
 * staff usernames to their names when the API gives them. */
export function actorName(actor, names = {}) {
  if (!actor) return "—";
  if (names && names[actor]) return names[actor];
  if (actor === "owner") return "业主";
  if (actor === "system") return "系统";
  if (actor === "admin") return "管理员";
  if (actor.startsWith("external:")) return `物业系统（${actor.slice(9)}）`;
  return actor;
}

/** "3号楼2单元501" from the ticket/binding parts (the API's own "location"/"flat" win). */
export function flatOf(item) {
  if (!item) return "";
  if (item.flat) return item.flat;
  if (item.location) return item.location;
  if (item.building && item.unit && item.room) return `${item.building}号楼${item.unit}单元${item.room}`;
  return item.public_area || "";
}
