### Search as you type and identification.
### Keys `area.name` in code are ids `area-name` here.

match-email = email
match-initials = initials
match-name = name
match-name_part = part of name
match-phone = phone
match-pinyin = pinyin
match-pinyin_part = part of pinyin
match-other = match
search-choose = Choose the customer
search-in_list = Show in the customer list
search-new_with_number = New customer with this number
search-tie = { $n } customers match “{ $q }” equally well; choose one:
search-unknown_number = No customer has the number { $q }.
search-hint = Press / to search
search-label = Identify a customer
search-none = No match.
search-placeholder = Phone, email, name, pinyin or initials…
