### Search as you type and identification.
### Keys `area.name` in code are ids `area-name` here.

match-email = 邮箱
match-initials = 拼音首字母
match-name = 姓名
match-name_part = 姓名部分
match-phone = 电话
match-pinyin = 拼音
match-pinyin_part = 拼音部分
match-other = 匹配
search-choose = 选择客户
search-in_list = 在客户列表中查看
search-new_with_number = 用这个号码新建客户
search-tie = “{ $q }”同样匹配 { $n } 位客户，请选择：
search-unknown_number = 没有客户使用号码 { $q }。
search-hint = 按 / 键快速搜索
search-label = 识别客户
search-none = 没有找到。
search-placeholder = 电话、邮箱、姓名、拼音或首字母…
