"""The OCPP 1.6J front on the shared link (`csms`): the 1.6 key table, the reporters, the
authorizer, smart charging and one handler per feature profile.
"""
