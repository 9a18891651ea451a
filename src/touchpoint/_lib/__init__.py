"""Private toolbox shared by every part of touchpoint (imports nothing above it).

``checks`` parameter validation, ``stats`` shared statistics, ``columns`` column
conversion, ``frames`` dataframe access, ``time`` durations and periods,
``results`` the result mixins, ``progress`` progress bars. Nothing here is public.
"""
