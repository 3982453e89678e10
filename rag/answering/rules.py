"""Every word list, cue and threshold the answering modules read, in one place, grouped by the class
of question each serves; each entry says what it is for. A module imports what it reads from here.

An entry belongs here when it is a class of wording (the cues of an ask, the pointers of a
follow-up, the words of a ticket's speaker line), never the words of one question: a word added
because one question failed is a defect (see scripts/fit_gate.py for the one decision that is
fitted on data rather than set by hand).
"""

from __future__ import annotations

import re

from rag.indexing.lexical import STOPWORDS

# == question.py — What a question asks: its kind (lead, units, deadline …), the item, section or unit it names, and what the documents cannot answer.
# an item by its number (第23条, 第二十三项)
ITEM_REF = re.compile(r"第\s*([0-9]{1,4}|[一二三四五六七八九十两]{1,4})\s*(?:条|项|点|款|个条目)")

# an item by a bare number (23条, 5项), not a count of things
ITEM_REF_BARE = re.compile(r"(?<![0-9第.])([0-9]{1,3})\s*(?:条|项)(?![件])")

# a section by its numeral (第三部分, 第三大项)
SECTION_REF = re.compile(
    r"第\s*([一二三四五六七八九十]{1,3}|[0-9]{1,2})\s*(?:大)?(?:部分|方面|板块|章|节|大项|块)"
)

# an item by an ordinal in words (第二十三), not a date or a batch
ITEM_REF_LOOSE = re.compile(r"第\s*([0-9]{1,4}|[一二三四五六七八九十两]{1,4})(?![0-9一二三四五六七八九十两年月日天届次批个])")

# the last item of the document
LAST_ITEM = re.compile(r"最后一条|最后一项|末条|最末一条")

# the last section of the document
LAST_SECTION = re.compile(r"最后一(?:个)?(?:部分|方面|板块|大项)")

# a section named by a pointer or its heading (那一部分, 部分包括)
SECTION_WORD = re.compile(r"(?:那|这|哪|第几)一?(?:个)?大?(?:部分|板块|项|块)|部分(?:有|包括|讲|是|下面)")

# Words that can only mean a section (「这块」 may be just a topic: 「燃气这块谁管」).
SECTION_WORD_STRONG = re.compile(r"(?:那|这|哪|第几)一?(?:个)?(?:大?部分|板块|大块|大项)|部分(?:有|包括|讲|是|下面)")

# a year the question names (refused when the document does not cover it)
YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")

# a year named relative to the document's own (去年, 明年): another year, refused in one document
RELATIVE_YEAR = re.compile(r"明年|去年|前年|后年|下一年|上一年|下年度|上年度|往年|历年")

# a unit-like name (X局, 市X办, 市X中心): refused when no document names it
UNKNOWN_UNIT = re.compile(
    r"(?:市|省|县|区)?([\u4e00-\u9fff]{2})(?:局|厅|委员会)(?!长)"  # 局长 is a person
    r"|市([\u4e00-\u9fff]{2,3})办(?:公室)?(?![法理事好])"  # 市人防办; 怎么办 has no 市 before it
    r"|(?:市|省|县|区)([\u4e00-\u9fff]{2,4})(?:中心|支队|大队|总队)"  # 市疾控中心: a level before it
)

# the cue of each kind of ask: what a question asks for (its lead, units, deadline, a count …)
CUES: dict[str, re.Pattern[str]] = {
    "meta": re.compile(
        r"发布时间|发布日期|(?:哪天|什么时候|何时|啥时候|哪一天)(?:发布|发的|发出|出的|出来|印发|公布|出台|下发|颁布)|"
        r"(?:上半年|下半年|年初|年中|年底|几月|哪个月|哪年)[^,，。?？]{0,8}(?:发布|发的|印发|出台|下发|公布)|发的文|印发(?:的)?(?:时间|日期)|索引号|文号|"
        r"主题分类|体裁|文件(?:的)?标题|标题(?:是|叫)|文件名|叫什么文件|是什么文件|哪个文件|索.号|索引|"
        r"谁(?:发|印发|下发|制定)的|(?:发文|印发|发布)(?:单位|机关|机构)|哪个(?:单位|部门|机关)(?:发|印发|下发)的"
    ),
    "deadline": re.compile(
        r"(?:什么时[候间]|啥时[候间]?|何时|哪天|几月(?:份|底|初|末|中旬)?|几号|哪个月(?:底)?)(?:之?前)?|时限|期限|截止|截至|(?:多久|多长时间)(?![^,，。?？]{0,4}一次)|完成时间|时间节点|"
        r"时间要求|最晚|deadline|日期前|哪个月|什么时间|要在.{0,4}前|有时间要求|限期|几号|几月几日|哪一天|截[止至]日期|"
        # timing asked as a choice: 「是汛期前还是汛期后」「上半年还是下半年」「夏季还是冬季」
        r"(?:是|要在|在|于)[^,，。?？]{0,6}(?:前|底|内|上半年|下半年|季度)[^,，。?？]{0,4}(?:完成|到位|结束|办完|干完)[^,，。?？]{0,2}(?:吗|么|嘛)|"
        r"(?:前|后|上半年|下半年|年底|年初|年内|月)[^,，。?？]{0,8}还是|还是[^,，。?？]{0,8}(?:前|后|上半年|下半年|年底|年初|年内|月|明年|(?:19|20)\d\d\s*年)"
    ),
    "count": re.compile(r"多少(?!条)|(?<!哪)几(?:家|个|类|项|座|所|人|处|种)|数量|数目"),
    "units": re.compile(
        r"配合|(?:协同|协助|参与)(?:的)?(?:部门|单位|有谁|是谁|的有)|(?:一起|一块|一道|共同)(?:来)?(?:负责|管|抓|干|做|牵头)|"
        r"还有谁|(?:单位|部门)(?:都)?(?:有哪些|是哪些)|"
        r"还有哪(?:些|个|家)(?:部门|单位)?|都有谁|都是谁|都有哪些(?:部门|单位)|(?:哪些|哪几个|几个)责任(?:单位|部门)|"
        r"责任单位有哪些|有哪些单位|(?:负责|责任|参与|配合)(?:单位|部门)(?:有哪些|是哪些|都有|有几个|都是)|"
        r"(?:哪些|哪几个|哪几家|几个)(?:市直|市级|县直|区直|省直|相关|有关)?(?:部门|单位|机构)|责任单位(?:有|是|都|列)|责任部门|分工|"
        r"(?:责任|配合|参与)(?:单位|部门)[里中内]?(?:有没有|有无|包不包括|包括|包含|是否有)|在(?:责任|配合)(?:单位|部门)?(?:里|中|之内|名单)"
    ),
    "lead": re.compile(
        r"牵头|挑头|领头|带头|主抓|主管|主责|主导|归谁|归哪|谁|由哪|"
        r"(?:哪个|什么|哪家|哪一个)(?:部门|单位|机构|局|口子|科室|口)|第一责任|负总责|(?:哪家|哪个|哪一家)[^,。?]{0,4}负责"
    ),
    "list": re.compile(
        r"哪些条|哪几条|哪些条目|条目有哪些|条目都有|哪几项工作|哪些工作|哪些任务|哪几项任务|有几条|多少条|一共几条|共几条|列出|所有条目|全部条目|"
        r"哪些地方提|哪些段落|在哪几|出现在|出现过|几条里|列全|(?:有关|相关|涉及)的条|找出来|都找|提到了?.{0,12}的(?:有|是)|列一下条目|列个清单|哪些领域|哪些行业"
    ),
    "overview": re.compile(
        r"总体思路|总的思路|整体思路|指导思想|总目标|目标|十项|重点工作|重点任务|主要任务|概况|概述|"
        r"主要内容|主要讲|总共几部分|几个部分|哪几部分|哪几个方面|主线|抓手|以什么为重点"
    ),
}

# the aims and guiding ideas of the preamble (overview)
GOAL_WORDS = re.compile(r"总体思路|指导思想|总目标|目标|主线|抓手|以什么为重点")

# what a unit's listing asks for: which, how many, all of them
DEPARTMENT_LIST = re.compile(
    r"哪些|哪几|几条|几项|多少条|多少项|清单|列出|列一下|全部|所有|每一条|分别|任务|职责|参与|参于|涉及|什么工作|什么事|"
    r"管什么|干什么|负责什么"
)

# 「除了应急局还有哪些」: the units besides one, when a unit is named.
EXCEPT = re.compile(r"除了.{0,12}(?:还有|外)")

# 「燃气安全是不是归应急局管?」: a yes/no question about who leads; the answer names the lead.
LEAD_YESNO = re.compile(
    r"(?:是不是|是否|是)(?:由|归)?[^,。?谁]{0,6}(?:管|负责|牵头|主抓)|(?:管|负责|牵头|主抓)(?:的)?\s*(?:吗|嘛|不|么)|"
    r"(?:牵头|主抓|负责)(?:的|单位|部门)?(?:是|为)[^,，。?？]{1,12}?(?:吧|吗|嘛|么)|"
    r"是\s+(?:的)?(?:吧|吗|嘛|么)"  # 「这摊子是水务局吧」, the unit's name blanked out
)

# the verb that opens a task title and says nothing of its topic
TITLE_VERB = re.compile(r"^(?:加强|强化|完善|加大|突出|坚持|全面|切实|严格|及时|着力|深入|推进|扎实|加快)")

# title bigrams common to many tasks: no topic of their own
GENERIC_TITLE_GRAMS = frozenset("建设 工作 安全 力度 机制 体系 作用 设建 整治 其他 行业 领域 重点 制度 任务".split())

# What is left of a department question once the name is gone: 「负责哪些工作」「涉及几条」「挂了多少活」,
# with emphasis (自己牵头的) and the document named by its genre (这份要点里)…
DEPARTMENT_ASK = re.compile("|".join(sorted(
    """哪些 什么 几条 多少条 哪几条 哪几项 几项 涉及 涉及到 牵涉 牵涉到 牵扯 牵扯到 参与 配合 牵头 挑头 主抓 领头 带头 负责 承担 管 干 做 搞 职责 任务
    工作 事 事情 活 条目 是责任单位 责任单位 责任 单位 一共 总共 共 列出来 列出 都列 列一下 全部 所有 出现 名字 在 里 中 的 了 吗 呢 啊
    都 些 有 要 哪 请问 一下 我 想 知道 文件 里面 这个 那边 这边 那 还 是 条 几 多少 该 个 啥 呀 么 需要 具体 主要 方面 安全生产
    相关 内容 哪些地方 地方 可以 能 被 列为 作为 当 到 分别 给 说说 看看 查 查一下 哪项 项 出来 列 都列出来 点名 提到 提及
    写到 写了 口子 那块 这块 挂 挂了 挂名 自己 本身 单独 独自 这份 那份 份 只看 只要 只列 只问 它 它们""".split(), key=len, reverse=True))
    + r"|(?:文件|要点|方案|意见|通知|计划|清单|分工)")  # the document it is asked in, by its genre word

# greetings, weather, writing requests: not about the documents
CHITCHAT = re.compile(
    r"^(?:你好|您好|嗨|hi|hello|谢谢|多谢|再见|拜拜|早上好|晚上好|你是谁|你叫什么|在吗)|笑话|天气(?:怎么样|如何|好吗|预报)|"
    r"(?:今天|明天|最近)(?:的)?天气|吃饭了|唱首歌|讲个故事|"
    r"帮我写|帮忙写|写一份|写一篇|写个|起草一份|翻译"
)

# a document of another issuer (国务院, 省厅 …) asked about
OTHER_ISSUER = re.compile(r"(国务院|国家|应急管理部|省政府|省委|省应急管理厅|[\u4e00-\u9fff]{1,4}(?:部|省|厅))(?:的)?(?:20\d\d年)?(?:的)?(?:安全生产)?工作要点")

# details a question may ask that a document rarely states (money, names, phone numbers …): the ask, and
# the evidence that would answer it
FACETS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    # asked-for facet -> (cue in the question, evidence the source must contain)
    # An amount asked for, not a budget word inside a name (一般公共预算收入 is a topic).
    "money": (re.compile(r"多少钱|(?:预算|经费|资金|投资|投入|拨款|拨了|费|花了|补贴|补助)[^,。?]{0,4}(?:多少|几)|(?:交|缴|付)(?:纳)?多少|"
                         r"(?:多少|几)[^,。?]{0,4}(?:资金|经费|预算|投资|拨款|补贴)|奖[^,。?]{0,3}(?:多少|几)|"
                         r"万元|亿元|(?:预算|经费|资金|费用)(?:是|有)?(?:多大|怎么算)"),
              re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?元")),
    "person": (re.compile(r"(?:[\u4e00-\u9fff]长|书记|主任|负责人|联系人|领导)(?:是谁|叫什么|叫啥|姓什么|姓啥|的名字|是哪位)|姓名"),
               re.compile(r"(?:同志|先生|女士)")),
    "contact": (re.compile(r"(?:电话|手机)(?:号码|号)?(?:是多少|多少|是啥|是什么|给一下|发一下)|联系电话|手机号|邮箱|地址在|"
                           r"办公地点|网址|联系方式|热线(?:电话)?(?:是|多少)"),
                re.compile(r"\d{3,4}-?\d{7,8}|@|https?://")),
    "statistic": (re.compile(r"死了多少|死亡多少|伤亡(?:多少|情况|人数)|事故起数是多少|多少起|几起|发生了多少|"
                             r"死亡人数是多少|多少人死|受伤多少|现在有多少|已经(?:有|成立了?)多少|"
                             r"(?:追责|问责|处理|处分|判刑)了?多少人|多少(?:个)?人(?![才次员口])|几个人(?![才次员])|多少名|几名"),
                  re.compile(r"\d+(?:\.\d+)?\s*(?:万|千|百)?\s*(?:起|人|名)")),
    # how often something is done: 开展多少次, 查几次
    "times": (re.compile(r"多少次|几次|多少回|多少轮|几轮|多少场|几场"),
              re.compile(r"\d+(?:\.\d+)?\s*(?:万|千|百)?\s*(?:次|轮|场|回)|[一二三四五六七八九十两百千万]+(?:次|轮|场)")),
    "penalty": (re.compile(r"罚款|罚多少|扣多少分|扣分|处罚标准|罚金"),
                re.compile(r"\d+(?:\.\d+)?\s*(?:万|亿)?(?:元|分)")),
    "names": (re.compile(r"(?:企业|公司|工厂|厂|矿山|矿|园区|库|(?<!国)家)[^,。?]{0,8}(?:叫什么|名字|名称|是哪几(?![类种])|分别是|具体是哪(?![类种]))|"
                         r"(?<!单位)(?<!部门)(?:具体|分别)?是哪几(?:家|座|所)|"
                         r"哪(?:一|几)?家[\u4e00-\u9fff]{0,4}(?:公司|企业|厂)|"
                         r"企业名单|(?<!黑)名单"),
              re.compile(r"有限公司|有限责任公司|集团公司|股份公司")),
    "location": (re.compile(r"在哪个县|在哪个区|在哪个乡|建在哪|在哪里|分布在|位置在|具体位置|什么地方|"
                            r"哪(?:几)?个(?:县区|县|区|乡镇|街道)|去哪"),
                 re.compile(r"(?<![各相关])[\u4e00-\u9fff]{2,3}(?:县|镇|乡|村)(?![区(])")),
    # When something starts (开工, 进驻, 举行): the documents set deadlines, rarely start dates.
    "start": (re.compile(r"(?:几月份?|哪个月|什么时候|哪天|何时|啥时候)(?:开工|开始|启动|进驻|举行|召开|搞|开展)(?!完|好|定|成|到位)"),
              re.compile(r"(?:\d{1,2}月|月份)[^,。;]{0,6}(?:开始|启动|开工|举行|召开|开展)|\d{1,2}月起")),
    # A month asked for: a deadline of 年内 does not give one (年底 does: December).
    "month": (re.compile(r"几月份?|哪个月|什么月份|哪月"),
              re.compile(r"\d{1,2}月|[一二三四五六七八九十]{1,2}月|月底|年底")),
    "law_article": (re.compile(r"(?:条例|法|规定|办法|细则|意见)(?:的)?第几条|(?:条例|法|规定|办法|细则)(?:里|中)?(?:是)?怎么规定"),
                    re.compile(r"第[0-9一二三四五六七八九十]+条")),
}

# 「燃气那个部门牵头」: 那 typed for 哪 where the question has no other question word.
INTERROGATIVE = re.compile(r"谁|哪|什么|啥|几|多少|吗|么|呢|是否|是不是|有没有|能否|怎|如何|[?？]")

# 那 typed for 哪 before a measure word
NA_FOR_NA = re.compile(r"那(?=个|些|家|几|条|项|位|种|类|天|年|一(?:个|项|条|家))")

# section-heading bigrams too common to name a section
HEADING_COMMON = frozenset("坚持 安全 全生 生产 水平 提高 提升 强化 推进 扎实 完善".split())


# == followup.py — Follow-ups: what points back to the conversation, and what carries over.
PRONOUN = re.compile(
    r"它们?|他们|这一?条|该条|此条|本条|这一?项|该项|此项|这个|这件事|这[两俩](?:件|个|条|项)?(?:事)?|这块|这方面|这里|其中|上述|上面那|刚才|前面那|"
    r"(?<!文件)里面|里头|当中"
)

# Pronouns that can only mean an item (not a department): 这条, 该项 …
ITEM_PRONOUN = re.compile(r"这一?条|该条|此条|本条|这一?项|该项|此项")

# the item before or after the one in focus (上一条, 下一项)
RELATIVE = re.compile(r"(上|下|前|后)一?(?:条|项)")

# Opening or closing words that mark a question as continuing the previous one.
ELLIPSIS = re.compile(r"^(?:那|那么|那如果|还有|另外|再问一下|再问|然后|接着)|呢\s*[??]?\s*$")

# Asks for an item's content: keeps a question's own kind (那第二十四条讲什么呢?).
ITEM_ASK = re.compile(r"讲(?:了|的)?(?:什么|啥)|什么内容|哪些内容|具体内容|主要内容|原文|全文|说了什么|写了什么|是什么|"
                      r"(?:要|需要|得)(?:做|干|搞)(?:什么|啥|哪些)")

# Words that carry no topic: what is left after them says whether a question names a topic.
FILLER = re.compile(
    r"完成|要求|情况|怎么样|怎样|如何|分别|一下|说说|讲讲|介绍|具体|明确|清楚|一起|一块|跟|还有|另外|其他|别的|其余|然后|接着|"
    r"再问|所以|(?:会)?来(?:查|管|检查)|(?:想|要)(?:问|请教|咨询)|问一下|问问|请教|咨询|那么|如果|的话|呢|吗|嘛|吧|啊|呀|哦|有没有|是不是|能不能|可以|需要|应该|必须|到底|究竟|"
    r"属于|所属|哪个部分|哪一部分|时间|日期|工作|事项|任务|内容|条目|来着|一样|相同|不同|区别|这|那|哪|谁|啥|么|些|的|了|有|是|在|要|和|与|及|又|都|也|还|再|就|多|呢"
)

# asks whose kind carries over to an elliptical follow-up
CARRY_KINDS = ("lead", "units", "deadline", "count")

# 「其中第二个」「第四个谁负责」: a position in the list the last answer gave (个, or 其中 before 第N条/项).
ORDINAL = re.compile(r"第([一二三四五六七八九十两0-9]{1,3})个|其中第([一二三四五六七八九十两0-9]{1,3})(?:条|项)")

# 「里面哪条」「其中哪几项」: a pick among the tasks the last answer listed
PICK_AMONG = re.compile(r"(?:里面|里头|其中|当中|这些|这几(?:条|项|个))[^,，。?？]{0,3}哪")

# local governments as a responsibility block names them (各县(区)党委、政府, 开发区、新区工管委)
LOCAL_GOVERNMENT = re.compile(r"(?:各|相关)?县(?:\(?区\)?)?(?:党委)?[、,，]?(?:政府)?|(?:开发区|新区)(?:工管委)?|工管委")

# 「这两条」「这几条」「它们」: the tasks the conversation has been on
THESE_TASKS = re.compile(r"这([两俩三几])(?:条|项|个|件)?(?:工作|任务)?|它们|上面(?:这|那)?(?:几|两)(?:条|项)")

# whether local governments bear a task (县区要不要负责, 有没有责任, 在责任单位里吗)
LOCAL_DUTY = re.compile(r"负责|责任|管不管|参与|在不在|有没有份|有份")

# a unit's listing that sets one of its tasks aside (教育局除了管学校安全,还要参与哪些)
EXCEPT_DUTY = re.compile(r"除了[^,，。?？]{0,12}[,，]?还(?:要|得|会|在)?(?:参与|负责|管|承担|牵头|配合)")

# words a first message may use without naming a task (那个数字, 第几部分, 对吧)
NAMELESS = re.compile(r"数字|数量|第几部分|哪个部分|部分|对吧|对不对|是吧")

# a unit named by what it looks after (管学校的那个局, 负责旅游的那个部门)
DOMAIN_UNIT = re.compile(r"(?:管|负责|主管)(?:理)?([\u4e00-\u9fff、和与及]{2,12}?)的(?:那个|那家|这个|那)?(?:局|部门|单位|委)")

# the two sides of a choice (季度调度还是月调度)
CHOICE = re.compile(r"([\u4e00-\u9fff]{2,4}?)(?:调度|完成|开展|进行)?还是([\u4e00-\u9fff]{2,4})")

# a topic marked as one (在双控这块, 宣传方面, 关于燃气): a unit's tasks about it
TOPIC_MARKED = re.compile(r"(?:在|关于|对于)\s*([\u4e00-\u9fff]{2,8}?)(?:这块|这一块|那块|方面|领域)|关于([\u4e00-\u9fff]{2,8})的")

# what a unit does (负责什么, 干啥, 参与哪些)
DUTY_ASK = re.compile(r"负责|干(?:什么|啥|嘛)|做(?:什么|啥|哪些)|参与|承担|管(?:什么|啥|哪些)")

# which law or rule a task follows (依据的是哪个规定, 要落实的是哪个细则)
LAW_ASK = re.compile(r"(?:依据|根据|按照|落实|执行|贯彻)?(?:的)?(?:是)?(?:哪个|哪部|哪项|什么)(?:规定|办法|条例|细则|法规|意见|标准|文件|法)")

# a yes-or-no question (是X前完成吗, 是不是, 是否)
YES_NO = re.compile(r"是不是|是否|对不对|[吗么嘛]\s*[?？]?\s*$")

# the section of the task in focus (这一部分, 这个部分, 这部分)
THIS_SECTION = re.compile(r"(?:这|该|此)(?:一|个)?(?:大)?部分")

# the task in focus compared with one named (跟煤矿那条比, 和执法检查那条相比)
COMPARED_WITH = re.compile(r"(?:和|跟|与|同)([\u4e00-\u9fff]{2,12}?)(?:那条|那项|这条|这项|那个)?(?:比|相比|比较|对比)(?:呢|一下|起来)?")

# a task by its place in a section (第五部分里排第三的那条)
SECTION_POSITION = re.compile(r"第([一二三四五六七八九十]{1,3})(?:大)?部分(?:里|中|下)?(?:的)?(?:排)?(?:在)?第([一二三四五六七八九十0-9]{1,3})"
                              r"(?:(?:个|条|项|位)(?:的)?(?:那条|那项|那个|任务|工作)?|的(?:那条|那项|那个))")

# a list of tasks asked for (哪些条, 哪几项工作, 哪些任务), not of things one task names (哪些行业)
TASKS_ASKED = re.compile(r"哪些条|哪几条|条目|哪几项|哪些工作|哪些任务|哪几个任务|有几条|多少条|几条|列出|列一下|列全|"
                         r"所有|全部|都有哪些|提到|涉及|出现|相关的|有关的|找出来|都找|清单")

# how often something is done (多久调度一次, 多长时间检查一次): the verb asked about
HOW_OFTEN = re.compile(r"(?:多久|多长时间|隔多久|多少天)([\u4e00-\u9fff]{0,4}?)一次")

# 「另外那条」: the other task of a two-task answer, not the one the conversation was on before it.
OTHER_ITEM = re.compile(r"另(?:外)?(?:那|一)(?:个|条|项)|另外(?:的)?(?:那)?(?:个|条|项)")

# 「这个部门还负责哪些」: the unit of the task just discussed.
THAT_UNIT = re.compile(r"(?:这|该|那)(?:个|家)?(?:部门|单位|局)|它还|他们还")

# 「市林业局也在里面吧」: is a unit among the task's units.
AMONG = re.compile(r"里面|里头|在内|也在|在不在|有没有它|有它|有份|有没有份")

# 「包括哪些条目」 after a section: its tasks.
CONTENTS = re.compile(r"包括|包含|有哪些条|哪几条|哪些条目|都有哪些|具体条目")

# Words of the conversation itself, not of a topic: pointers back (上面说的, 另一个), ordinals into a
# list (第二个), a correction (不是这个, 我问的是) and the verbs that ask for content (怎么写, 干嘛).
TALK = re.compile(r"上面|上文|前面|刚才|同上|另一(?:个|条|项)|另外(?:一)?(?:个|条|项)|第[一二三四五六七八九十两0-9]{1,3}个|不是|我(?:问|说)的?|"
                  r"继续|接着说|再(?:详细|具体)|详细(?:一)?(?:点|些|说说|讲讲)|具体(?:一)?(?:点|些)|展开(?:说|讲)|多说(?:点|一些)|"
                  r"(?:说|写|讲|提)的|怎么(?:写|说|讲)|干(?:嘛|啥|什么)|做(?:什么|啥)|搞(?:什么|啥)")


# == evidence.py — Evidence: the words that carry no topic when a question is scored against a task.
# Words that open an item title but say nothing of its topic (加强, 完善 …).
TITLE_VERBS = re.compile(r"^(?:加强|强化|完善|加大|突出|坚持|全面|切实|严格|及时|着力|深入|推进|扎实|加快)")

# Title words that name no topic (强化信息安监建设 is about 信息安监, not 建设).
GENERIC_TITLE_WORDS = frozenset({"建设", "工作", "安全", "机制", "体系", "力度", "作用", "设建"})

# characters that carry no topic when scoring evidence
NON_CONTENT = re.compile(r"[\s\W_0-9a-zA-Z]")

# function characters removed before scoring evidence
FUNCTION_CHARS = frozenset("的了是在和与及或由把被对将为从向于等这那也都还就吗呢吧啊呀嘛哦么谁哪啥几个各其该之所而则但并且又再很最更去来做搞弄有要样跟")

A_NOT_A = re.compile(r"([办搞能会要是有管做干行对用算需可该给让])不\1")  # 办不办, 能不能: yes or no, no topic

# Spoken fillers that carry no topic: 「液化气里头掺的是啥东西」「那个提法原话怎么说的」; 今年 is the
# document's own year.
SPOKEN_FILLERS = frozenset("里头 里面 东西 来着 原话 提法 说法 怎么说 叫什么 叫啥 那边 这边 那块 这块 哪块 玩意 今年".split())

# stopwords and spoken fillers, longest first, removed before scoring evidence
LONG_STOPWORDS = sorted((w for w in STOPWORDS | SPOKEN_FILLERS if len(w) >= 2), key=len, reverse=True)

# memory the bigram sets of recent texts (tasks, sentences, questions) may hold
BIGRAM_CACHE_BYTES = 64 * 2**20

# a phrase the question quotes (“八个必须”): a task that writes it is the one asked about
QUOTED_PHRASE = re.compile(r"[“\"「『‘]([^”\"」』’]{2,20})[”\"」』’]")
# how much a task that writes the quoted phrase is preferred (twice a full title match)
QUOTE_WEIGHT = 0.1

TITLE_WEIGHT = 0.05  # a question that names an item's title is about that item

SENTENCE_WEIGHT = 0.05  # … or about the item holding the sentence (or two) that covers it best


# == asks.py — Several asks in one question, and tickets (context, then the question).
JOINERS = re.compile(r"以及|还有|和|与|跟|及|同|、|，|,|;|；|/")
COORDINATION = re.compile(r"以及|还有|和|与|跟|及|同|、|/")  # the joiners that are words, not punctuation

# Words that carry no target: pointers (那条), measure phrases (这两项), politeness, particles.
TARGET_FILLERS = re.compile(
    r"请问|麻烦|帮忙|帮我|查下|查一下|问一下|想问|我们|这俩|这两(?:个|条|项|块)?|这三(?:个|条|项|块)?|两项|三项|三块|"
    r"那(?:两|三)?(?:条|项|块|个)|这一?(?:条|项|块|个)|那一(?:条|项|块|个)|两条|这类|那类|方面|工作|"
    r"分别|各自|各归|各由|各是|各有|各|由|是在|哪个|的|了|呢|吗|啊|:|：|\s"
)

# What else a comparison says once its targets are named (「…的比,多了哪些」「…哪个截止得早」).
COMPARISON_WORDS = re.compile(r"(?:责任|配合)?(?:单位|部门)|比起?|多了|少了|多出|哪些|哪几个|哪几家|有没有|重合|两边|都有|差在哪|差在|差别|区别|"
                              r"一样|相同|不同|有啥|是不是|同一个|(?:是在)?(?:之|以)?前还是(?:之|以)?后|[?？。!！]")

# A question about several targets says so (分别, 各, 一样吗, 哪个早, 这两项 …); a plain list of
# examples (「医院、车站、商场这些人多的地方」) describes one target.
DISTRIBUTIVE = re.compile(r"分别|各自|各[归由是有]|一样|相同|不同|同一|区别|差别|差在|哪个[^,，。?？]{0,4}?(?:早|晚|先|后|截止)|谁先|先后|"
                          r"(?:之|以)?前还是(?:之|以)?后|"
                          r"这两|这俩|这三|两项|三项|两条|三条|两块|三块|多了|少了|多出|重合|两边|比")

# What a comparison compares when its own wording is not a kind's cue (「责任单位差在哪」「哪个先到期」).
COMPARED = (("units", re.compile(r"责任单位|配合单位|单位|部门")),
            ("deadline", re.compile(r"到期|期限|截止|时限|先|早|晚")),
            ("lead", re.compile(r"牵头")))

# a comparison asking whether the answers agree (一样吗)
SAME_CUE = re.compile(r"一样|相同|同一|不同|区别|差别|有啥不一样")

# the fewest Chinese characters a target of several asks has
MIN_TARGET = 2

# is a unit among several tasks' units (两项都参与了吗, 哪项里面有X, 是不是都在)
UNIT_MEMBERSHIP = re.compile(r"有没有|是不是|是否|在不在|都(?:参与|参加|在|有)|哪(?:一)?(?:项|条|个)(?:里面?|里头|中|当中)?(?:有|包括)|"
                             r"参与了?(?:吗|么|没有)|[吗吧么]\s*[?？]?\s*$")

# a sentence that asks something (tickets: the asking sentence is the question)
QUESTION_MARK = re.compile(r"谁|哪|什么|啥|(?<![十一二三四五六七八九0-9前这那好过])几|多少|吗|么|呢|是否|是不是|有没有|能否|怎么|如何|[?？]")

# sentence ends that cut a ticket into sentences
SENTENCE_END = re.compile(r"(?<=[。！!？?；;])")

# words of a ticket's asking sentence that name no topic: the document, the asker, "according to"
TICKET_WORDS = re.compile(r"文件|要点|方案|通知|这块|这一块|那块|里面|里|规定|要求|按照?|根据|我们|咱们|我|说|归|管")

# a ticket's opening clause that says who asks (我们是…公司,): context, not the question
SELF_INTRODUCTION = re.compile(r"^(?:我们|我|咱们|本单位|我单位|本公司|我公司)(?:是|在|这边|单位|公司|家)[^,，。;；:：]{1,20}[,，。;；]")

# the asker's own unit (我们局, 本单位): the unit its self-introduction names, when it names one
OWN_UNIT = re.compile(r"(?:我们|咱们|我|本|咱)(?:局|委|办|单位|部门|厅|中心|支队)")

# a ticket's question that points at a task its context named (这一条, 这块)
CONTEXT_POINTER = re.compile(ITEM_PRONOUN.pattern + r"|这块|这一块|这方面|(?:这个|这类|这种|这些)(?!文件|工作要点|要点|方案|通知)")

SPEAKER = re.compile(r"^[^:：。?？]{2,30}[:：]")  # 「物业公司安全员:」「热线留言,一位农户:」


# == listings.py — Listings of a unit's tasks: what the asker wants listed.
LEADS_ONLY = re.compile(r"牵头|挑头|主抓|领头|带头")

# a listing that also asks each task's lead (每项谁牵头)
WHO_LEADS = re.compile(r"(?:谁|哪个|哪家|每项|各项|分别)[^,，。?？]{0,3}(?:牵头|挑头|主抓|领头|带头)")

# a listing that asks for co-responsible tasks too
CO_ASKED = re.compile(r"配合|协同|参与")

# a listing that wants only the tasks the unit leads (只要它牵头的, 只看牵头的)
ONLY_LEADS = re.compile(r"只(?:要|看|列|问|说|查)[^,，。?？]{0,6}(?:牵头|挑头|主抓)|(?:牵头|挑头)的(?:就行|就好|即可)")

# an ask for how many units a task lists (列了几个部门, 多少家单位)
HOW_MANY_UNITS = re.compile(r"(?:几|多少)(?:个|家)?[^,，。?？]{0,4}(?:部门|单位)")

# two units' listing that asks what they share (都参与, 一起, 共同)
BOTH_UNITS = re.compile(r"都(?:参与|参加|有|在|负责|涉及)|一起|共同|同时|均")

# words that name a task's responsibility block (责任单位写的是…)
UNITS_FIELD = re.compile(r"责任单位|责任部门|分工")

# a listing that wants only the tasks the unit is co-responsible for (只是配合的, 不是牵头的)
ONLY_CO = re.compile(r"(?:只|仅|光)(?:是|作为|当|做|负责|参与)?(?:配合|协同|协助)|(?:不是|并非|非|不|没有)(?:由它|它)?牵头")

# a unit pointed back at, then what it leads (它牵头的, 这个部门牵头的): the tasks it leads
POINTER_LEADS = re.compile(r"(?:它|他们|该(?:部门|单位)|这个(?:部门|单位)|其)(?:自己)?(?:牵头|挑头|主抓|领头)")

# A part the asker leaves out: 「配合的就不用说了」「不用列配合的」.
NOT_ASKED = re.compile(r"[^,，。?？;；]{0,8}?(?:就|都|可以)?(?:不用|不必|不需要|无需|别)(?:再)?(?:说|列|提|讲|管|写)了?[^,，。?？;；]{0,6}")

# a section question that asks who leads its tasks
WHO = re.compile(LEADS_ONLY.pattern + r"|谁|哪个部门|哪些部门|哪个单位|哪些单位|责任单位")


# == english.py — English and mixed-language input.
LETTERS = re.compile(r"[A-Za-z]")

# a Chinese character (an English question has almost none)
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# the kind of an English question, by its ask words
ENGLISH_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("units", re.compile(r"\b(?:alongside|co-?responsible|co-?operat\w*|partners?|involved|support(?:ing|s)?|"
                         r"assist\w*|other (?:departments|units|agencies|bodies)|who else|which (?:departments|units|agencies))\b",
                         re.I)),
    ("deadline", re.compile(r"\b(?:deadline|due|by when|when (?:must|do|does|should|will|is|are)|until when|"
                            r"finish\w*|complet\w*)\b", re.I)),
    ("lead", re.compile(r"\b(?:who|which (?:department|agency|unit|bureau|office|body|organi[sz]ation))\b|"
                        r"\b(?:lead|leads|leading|in charge|responsible)\b", re.I)),
    ("count", re.compile(r"\bhow (?:many|much)\b", re.I)),
)

# Asks the documents never answer, in English as the Chinese gates have them.
ENGLISH_UNSTATED = re.compile(r"\b(?:budget|cost|costs|funding|how much money|yuan|phone|telephone|email|address|"
                              r"names? of (?:the )?(?:companies|firms|enterprises)|fine|penalt\w*)\b", re.I)

# Words of any English question, not of its topic: what is left after them (and the cue words
# above) says whether an English question names a task or follows up on the last one.
FUNCTION_WORDS = frozenset("""
a an the this that these those it its one ones same else other others there here about for of to in on
at by with and or but is are was were be been being do does did has have had will would can could should
must may might what which who whom whose when where why how about tell me please plan document say says
said task tasks item items work else also too then so again now""".split())

# (Word edges are written as "no Latin letter next to it": \b would see no edge between 的 and co-.)
# A Chinese question with English ask words (「市公安局 lead 了哪些 task」「section 九 有哪些 items」):
# the ask words, in the Chinese the question reader knows; topic words stay as typed.
MIXED_ASK = (
    (re.compile(r"(?<![A-Za-z])section\s*([一二三四五六七八九十0-9]+)", re.I), r"第\1部分"),
    (re.compile(r"(?<![A-Za-z])(?:item|task|article)\s*([0-9]+)", re.I), r"第\1条"),
    (re.compile(r"(?<![A-Za-z])(?:co-?responsible|partners?|supporting|support|co-?operating|assisting)(?![A-Za-z])", re.I), "配合"),
    (re.compile(r"(?<![A-Za-z])(?:leads?|leading|in charge)(?![A-Za-z])", re.I), "牵头"),
    (re.compile(r"(?<![A-Za-z])(?:deadlines?|due)(?![A-Za-z])", re.I), "时限"),
    (re.compile(r"(?<![A-Za-z])(?:units?|departments?|agenc(?:y|ies))(?![A-Za-z])", re.I), "单位"),
    (re.compile(r"(?<![A-Za-z])(?:tasks?|items?|work)(?![A-Za-z])", re.I), "工作"),
    (re.compile(r"(?<![A-Za-z])safety(?![A-Za-z])", re.I), "安全"),
)


# == homophones.py — Homophone typos of pinyin input.
# The words questions ask with (the cues of question.py are built from them).
ASK_WORDS = ("牵头", "配合", "负责", "责任", "单位", "部门", "完成", "时限", "截止", "期限", "重点", "哪些", "什么时候")

LATIN_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{4,}(?![A-Za-z])")  # pinyin typed for a word (shorter: too ambiguous)
LATIN_RUN = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,}(?:\s+[A-Za-z]{2,})*(?![A-Za-z])")  # pinyin words typed apart


# == scope.py — Which documents a question is about: years, titles, issuers, places, genre words.
GENRE = r"(?:文件|要点|方案|意见|通知|计划|清单|分工|分解|规划|办法|措施|报告)"

# A year that dates a document, not a deadline inside one (2021年6月底前, 2021年底).
DOC_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年(?:度)?(?![0-9一二三四五六七八九十]+月|底|内|初|中|末|前|起|以来)")

# a year offered as one side of a timing choice (「年底前完成还是2021年」「是今年还是明年」): a
# deadline asked about, not the year of a document. (「2021年还是城管局牵头吗」: 还是 is "still".)
YEAR_CHOICE = re.compile(
    r"(?:还是|或者|或是)[^,，。?？\d]{0,6}?(?:(?:19|20)\d\d\s*年(?:度)?|明年|后年|今年|下一年|下年度)(?![^,，。?？]*吗)"
    r"|(?:(?:19|20)\d\d\s*年(?:度)?|今年|明年)(?=(?:底|初|内|前|上半年|下半年)?[^,，。?？]{0,10}?还是(?![^,，。?？]*吗))"
)

# years relative to the reference date (今年 0, 去年 -1 …)
RELATIVE_YEARS = {"今年": 0, "本年度": 0, "去年": -1, "上一年": -1, "上年度": -1, "前年": -2, "明年": 1, "下一年": 1,
                  "下年度": 1}

# any relative year word, longest first
RELATIVE_YEAR_WORD = re.compile("|".join(sorted(RELATIVE_YEARS, key=len, reverse=True)))

# a document number (文号: 秦安〔2020〕3号)
DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{0,6})[〔\[(（【]\s*((?:19|20)\d\d)\s*[〕\])）】]\s*(\d{1,4})\s*号")

# 「…的那个文件里」「要点中」: once the document is known, the words that pointed at it say nothing more.
IN_DOCUMENT = re.compile(r"(?:的)?(?:那|这)?(?:个|份|一份)?(?:文件|要点|方案|意见|通知|计划|清单)(?:里面|里头|里|中|上)(?:的)?|"
                         r"^(?:的)?(?:那|这)?(?:个|份)?(?:文件|要点|方案)(?:里面|里|中)?")

# a title in 《》
QUOTED_TITLE = re.compile(r"《([^》]{2,60})》")

# What follows a body's name when the body is named as the document's author, not as a unit at work.
AUTHOR_TAIL = (rf"(?:的|发的|印发的|下发的|出的|制定的)?(?:那|这)?(?:个|份|一份)?\s?(?:(?:19|20)\d\d年(?:度)?)?(?:的)?"
               rf"(?:(?![在里中有是负管做抓])[\u4e00-\u9fff]){{0,8}}?{GENRE}")

# how issuers shorten their names (人民政府 → 政府, 安全生产委员会 → 安委会)
CONTRACTIONS = (("人民政府", "政府"), ("安全生产委员会", "安委会"), ("委员会办公室", "委办"), ("办公室", "办"),
                ("办公厅", "办"))

# a comparison across years (还是…吗, 变了吗, 和去年一样吗)
COMPARE = re.compile(r"还是[^,，。?？]{0,20}(?:吗|么|嘛|不)|变了|变化|调整|换了|改了|一样吗|一样不|一样么|相同|不同|区别|差别|"
                     r"[和跟与比同]去年|[和跟与比同]上一?年|两年|这两份|对比|比较")

# a body that may author a document (国务院, X部, 省政府 …)
OTHER_BODY = r"(国务院|国家[\u4e00-\u9fff]{0,6}(?:局|部|委)|[\u4e00-\u9fff]{2,6}部|省政府|省委|[\u4e00-\u9fff]{2,5}厅)"

# 「这份文件」「该文件」: a document the question cannot name.
THIS_DOCUMENT = re.compile(r"(?:这|该|此|本)(?:个|份|一份)?(?:文件|文|要点|方案|意见|通知|计划|清单)")

# an ask for the list of documents (有哪些文件)
DOCUMENT_LIST = re.compile(
    r"(?:哪些|哪几(?:份|个|篇)|几份|多少份|几个|什么)(?:是)?[^,，。?？]{0,6}?(?:的)?(?:政策)?(?:文件|文档)(?!里|中|的)|"
    r"(?:文件|文档)(?:库)?(?:里|中)?(?:有哪些|都有哪些|有几份|有多少|列表|目录|清单)|(?:文件|文档)[^,，。?？]{0,3}(?:都)?列(?:一下|出来|出)|"
    r"(?:收录|收了|存了|有)(?:哪些|什么|几份)(?:文件|文档)|(?:有|是)(?:哪几份|几份|多少份)|有没有[^,，。?？]{0,10}?(?:文件|文档)"
)

# 「秦皇岛开发区」「秦皇岛市…」: the place a document without a parsed place names itself by.
MENTIONED_PLACE = re.compile(r"(?<![各全本我该这那哪每市县区省])([\u4e00-\u9fff]{2,3})(?=开发区|新区|经开区)")

# 「湖州那份…」「运城的文件」: a place without its 市 only where nothing follows that makes it a word
# of its own (示范社区 is not 示范区; 示例县 is not 示例市).
STEM_END = r"(?=的|那|这|份|年|[0-9]|[,，。?？\s]|$)"

BARE_PLACE_END = r"(?=的|那|这|份|年|[0-9]|[,，。?？\s]|$|市|开发区|新区)"  # 秦皇岛 of 秦皇岛开发区

# a place in a document's title or issuer (示例市, 某某县)
TITLE_PLACE = re.compile(r"(?<![各全本该这那每])((?:(?![省市县区的关于年])[\u4e00-\u9fff]){2,3}(?:省|市|县|区))(?=人民政府|政府|安委|应急|[\u4e00-\u9fff])")

# a unit's name after a place (北戴河区应急管理局): the place is not the document's
UNIT_AFTER = re.compile(r"(?:市|区|县|新区|开发区)?[\u4e00-\u9fff]{0,8}(?:局|委|办|厅|队|中心|委员会|管委)")

# 「示例县的…」「唐山市今年…」: a place named like one; the corpus decides whether it holds it.
PLACE_LIKE = re.compile(r"(?<![各全本我该这那哪每])((?:(?![省市县区给在对向从把被和与及等的了各全本我该这那哪每有没是里们])[\u4e00-\u9fff]){2,3}(?:省|市|县|区))(?=的|今年|去年|明年|安全|应急|燃气|这边|那边|有|在|是|发|印发)")


# == citations.py — Quoting a task: where its responsibility block begins.
UNITS_LEAD_IN = re.compile(r"[（(【\[]?\s*(?:责任单位|牵头单位|责任部门|牵头部门)?\s*[:：]?\s*$")


# == answer.py — Answers by kind: document facts, lists by deadline, overview and count cues, thresholds of the evidence.
# A yes/no question whether a unit is among a task's units (「责任单位里有没有X」「X也在里面吧」).
MEMBERSHIP = re.compile(r"有没有|有无|是不是|是否|在不在|包不包括|包括|包含|也在|[吗吧嘛]\s*[?？]?\s*$")

RANK_PENALTY = 0.1  # a sentence from the second-ranked item must support the question this much better

TITLE_NAMES_TASK = 0.8  # a question that carries this much of a task's title is about that task

MIN_SUPPORT = 0.34  # evidence this weak needs the question's words to be the corpus's own

# metadata asks (发布时间, 文号, 标题) and the header fields that answer them
META_CUES = {
    "发布时间": re.compile(r"发布|印发|出台|发的|发出|颁布|哪天|日期|时间"),
    "索引号": re.compile(r"索.号|索引"),
    "文号": re.compile(r"文号"),
    "主题分类": re.compile(r"主题|分类"),
    "体裁分类": re.compile(r"体裁"),
}

# an overview ask for the plan's aims (主线, 目标)
AIM_WORDS = re.compile(r"主线|抓手|目标|重点(?=[?？]?$)|为重点")

# an overview ask for the guiding idea (总体思路)
GUIDING_CUE = re.compile(r"总体思路|总的思路|整体思路|工作思路")

# the kind of thing a fact question asks for (哪些制度 → 制度)
ANSWER_TYPE = re.compile(r"(?:哪些|什么|哪几(?:个|项|种|类|样)?|哪(?:两|三|四|五)(?:个|项|种)|啥)([\u4e00-\u9fff]{2})")

# things a 哪些 question may ask for that a 《》 citation answers
DOCUMENT_NOUNS = {"文件", "规定", "办法", "标准", "规范", "条例", "细则", "意见", "手册", "导则", "清单"}

# a length of time (24小时, 3个月) that answers 多长时间
TIME_UNITS = ("小时", "天", "日", "个月", "年")

# What a question about the document itself asks for, answered from the parsed header (DocInfo).
ISSUER_CUE = re.compile(r"谁(?:发|印发|下发|制定|出)的|(?:发文|印发|发布|制发)(?:的)?(?:单位|机关|机构|部门)|"
                        r"哪个(?:单位|部门|机关)(?:发|印发|下发|制定|出)的|(?:哪个|哪家|谁)[^,。?]{0,3}(?:发布|印发|下发)")

# an ask for the date a document was issued
DATE_CUE = re.compile(r"(?:哪天|哪一天|什么时候|何时|啥时候|几号|日期|时间|上半年|下半年|年初|年中|年底|几月|哪个月|哪年)"
                      r"[^,。?]{0,8}(?:发|印发|下发|发布|出台|出的|成文|公布)|"
                      r"(?:发布|印发|成文|发文)(?:的)?(?:日期|时间)")

# an ask for the document number
NUMBER_CUE = re.compile(r"文号|发文字号|字号")

# a date as written in a document (2020年3月8日)
WRITTEN_DATE = re.compile(r"((?:19|20)\d\d)\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?")

# A deadline named in the question, to list every task that has it (「6月底前完成的有哪几条」).
DEADLINE_NAMED = re.compile(r"\d{1,2}月(?:底|中旬|上旬|下旬|\d{1,2}日)|年底|汛前|汛期前")
# a period a deadline may fall in (上半年, 4月份, 一季度): the tasks due within it are listed
DEADLINE_PERIOD = re.compile(r"上半年|下半年|([一二三四1-4])季度|(1[0-2]|[1-9])月份?(?!底|中旬|上旬|下旬|\d)")

# a question that asks for a list of tasks
LIST_ASK = re.compile(r"哪些|哪几(?:条|项|件)|有几条|多少条|列一下|都有啥|有没有[^,，。?？]{0,8}(?:事|工作|任务)")

# an ask for the document's title
TITLE_CUE = re.compile(r"标题|文件名|叫什么|叫啥|什么文件|哪个文件|名称")

# an ask for the list of sections (几个部分, 十项重点工作)
SECTION_LIST_CUE = re.compile(r"十项|几项重点|哪些重点工作|几个部分|哪几部分|哪几个方面|哪些方面|重点工作有哪些|重点工作是什么|重点任务")


# == library.py — Routing across documents and turns: follow-up shapes, slot changes, comparisons.
GROUP_MARGIN = 0.15  # another document's answer joins when its support is this close to the best

# asks only one document can resolve (第N条, a section): clarify across documents
RESOLVED_BY_DOCUMENT = ("item", "section")

# asks about one task's fields
FACT_KINDS = ("lead", "units", "deadline", "count")

TITLED_KINDS = ("lead", "units", "deadline")  # asks a task's structure answers once its title names it

# A lead or units question that names part of a task's title is about that task when the task's text
# holds at least this share of the question's content (IDF-weighted), by this margin over any other
# task: then its fields answer without searching. Calibrated on every eval set (2,631 answers): no
# answer changes at 0.6/0.2, nor at 0.5/0.1; the first change comes at 0.4/0.1.
SUPPORTED_KINDS = ("lead", "units")
NAMED_SUPPORT, NAMED_MARGIN = 0.6, 0.2

FOLLOW_KINDS = (*FACT_KINDS, "fact", "item")  # asks that need a task to be about

# What makes a question a follow-up: a pointer back, an opening or closing that continues, words of
# the conversation itself (「第二个」「不是这个」「上面说的」), an ask for a task's text (「原文怎么写的」).
FOLLOW_SHAPE = re.compile("|".join((PRONOUN.pattern, ELLIPSIS.pattern, TALK.pattern, ITEM_ASK.pattern, r"^(?:还|其中)|那个")))

# What a comparison of units or deadlines asks: the overlap, the difference, the order.
OVERLAP = re.compile(r"重合|重叠|共同|都有|交叉")

# a comparison of units asking what differs (多了哪些, 差在哪)
DIFFERENCE = re.compile(r"多了|少了|多出|差在|差别|区别|不同|不一样")

# a comparison of deadlines asking which comes first
ORDER = re.compile(r"哪个|谁先|先后|早|晚|前还是(?:之|以)?后")

# a clause that asks for a fact kind without a question word (以及这项工作的牵头部门)
ASK_CUE = re.compile(r"牵头(?:单位|部门)|配合(?:单位|部门)|责任(?:单位|部门)|完成时限|截止(?:时间|日期)")

# an ask for which task says something (哪一条里提到, 第几条)
WHICH_ITEM = re.compile(r"哪一?(?:条|项)|第几(?:条|项)")

# clause ends that cut a question into asks
CLAUSE = re.compile(r"[,，?？;；。]+")

# picking one task out of the last list (其中X那条)
NARROW = re.compile(r"其中|那条|那项|那一条|那一项")

# 「那市教育局呢」「那2020年呢」: the last question again, one slot changed.
SWAP = re.compile(r"^(?:那|那么|那如果)?[^,，。]{1,16}(?:呢|的呢)[?？]?$|^(?:换成|改成)[^,，。]{1,16}[?？]?$")
SWAP_OPENING = re.compile(r"^(?:那|换成|改成)")  # without it (「市农业农村局呢」), only a bare name swaps

# a year swapped into the last question (那2020年呢)
YEAR_SLOT = re.compile(r"(?:19|20)\d\d\s*年")

# 「不是这个,我问的是燃气」: a correction names the target it meant.
CORRECTION = re.compile(r"^(?:[哦噢啊嗯呃额]+[,，\s]*)?(?:不是|不对|(?:我)?(?:说|问|写|打|搞|弄)错了)[^,，。]{0,6}[,，。\s]*"
                        r"(?:我)?(?:问|说|想问|要问|找)?(?:的)?是(?:问)?(.{2,})$")

# 「一共列了多少项任务」: the number of tasks in the document, when nothing else is asked about.
TASK_COUNT = re.compile(r"^(?:[\s的里中,，]|这份|该|本|文件)*(?:一共|总共|共)?(?:列了|有|安排了|部署了|包括|分了)?(?:多少|几)(?:项|条|个)(?:重点)?(?:任务|工作|事项)?[?？]?$")

# A numbering path as documents write it: 五（五）, 三（二）5, 二3 (questions come width-normalised: (五)).
PATH_REF = re.compile(r"[一二三四五六七八九十]{1,3}(?:[（(][一二三四五六七八九十]{1,3}[)）])?[0-9]{0,2}")
