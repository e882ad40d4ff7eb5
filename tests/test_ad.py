from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ldapnb import ad
from ldapnb.errors import LdapnbError, SchemaError

DA_SID = "S-1-5-21-1004336348-1177238915-682003330-512"
# revision 1, 5 sub-authorities, authority 5, then 21, 1004336348, ... little-endian
DA_BYTES = bytes.fromhex(
    "010500000000000515000000dcf4dc3b833d2b46828ba62800020000"
)


def test_sid_bytes_to_string_and_back():
    assert ad.sid_to_str(DA_BYTES) == DA_SID
    assert ad.sid_to_bytes(DA_SID) == DA_BYTES


def test_sid_builtin_and_tidying():
    assert ad.sid_to_str(bytes.fromhex("01020000000000052000000020020000")) == "S-1-5-32-544"
    assert ad.sid_to_str("s-1-5-32-544") == "S-1-5-32-544"
    assert ad.sid_to_bytes(DA_BYTES) == DA_BYTES


def test_sid_that_an_ldif_reader_decoded_as_text():
    # S-1-5-32-544 is valid UTF-8 (all bytes < 0x80): LDIF readers may hand it back as str
    text = bytes.fromhex("01020000000000052000000020020000").decode("utf-8")
    assert ad.sid_to_str(text) == "S-1-5-32-544"


def test_sid_large_authority_is_hex():
    data = bytes([1, 1]) + (2**40).to_bytes(6, "big") + (7).to_bytes(4, "little")
    assert ad.sid_to_str(data) == "S-1-0x010000000000-7"
    assert ad.sid_to_bytes("S-1-0x010000000000-7") == data


def test_rid_and_domain_sid():
    assert ad.rid(DA_SID) == 512
    assert ad.rid(DA_BYTES) == 512
    assert ad.domain_sid(DA_SID) == "S-1-5-21-1004336348-1177238915-682003330"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (b"\x01\x05\x00", "at least 8 bytes"),
        (bytes([2, 0, 0, 0, 0, 0, 0, 5]), "revision must be 1"),
        (DA_BYTES[:-1], "5 sub-authorities has 28 bytes, not 27"),
        (bytes([1, 16]) + bytes(6) + bytes(64), "at most 15"),
    ],
)
def test_bad_binary_sid_says_why(value, words):
    with pytest.raises(SchemaError) as info:
        ad.sid_to_str(value)
    assert "objectSid" in str(info.value)
    assert words in str(info.value)


@pytest.mark.parametrize("text", ["S-1-", "S-1-5-x", "S-2-5-32-544", "S-1-5-99999999999"])
def test_bad_sid_string(text):
    with pytest.raises(SchemaError, match="not valid"):
        ad.sid_to_bytes(text)


def test_sid_without_rid_has_no_domain():
    with pytest.raises(SchemaError, match="no sub-authority"):
        ad.rid("S-1-5")


@given(
    st.integers(0, 2**48 - 1),
    st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=15),
)
def test_sid_round_trip(authority, subs):
    data = bytes([1, len(subs)]) + authority.to_bytes(6, "big") + b"".join(
        s.to_bytes(4, "little") for s in subs)
    text = ad.sid_to_str(data)
    assert ad.sid_to_bytes(text) == data
    assert ad.sid_to_str(text) == text


def test_guid_mixed_endian():
    data = bytes.fromhex("33221100554477668899aabbccddeeff")
    assert ad.guid_to_str(data) == "00112233-4455-6677-8899-aabbccddeeff"
    assert ad.guid_to_bytes("{00112233-4455-6677-8899-AABBCCDDEEFF}") == data
    assert ad.guid_to_str("00112233-4455-6677-8899-AABBCCDDEEFF") == (
        "00112233-4455-6677-8899-aabbccddeeff")


@given(st.binary(min_size=16, max_size=16))
def test_guid_round_trip(data):
    assert ad.guid_to_bytes(ad.guid_to_str(data)) == data


def test_bad_guid():
    with pytest.raises(SchemaError, match="objectGUID.*16 bytes, this value 3"):
        ad.guid_to_str(b"abc")
    with pytest.raises(SchemaError, match="not a GUID string"):
        ad.guid_to_str("z" * 36)


def test_filetime_known_value():
    assert ad.filetime_to_datetime("133000000000000000") == datetime(
        2022, 6, 18, 4, 26, 40, tzinfo=UTC)
    assert ad.datetime_to_filetime(datetime(2022, 6, 18, 4, 26, 40, tzinfo=UTC)) == (
        133000000000000000)


def test_filetime_never():
    assert ad.filetime_to_datetime(0) is ad.NEVER is None
    assert ad.filetime_to_datetime("9223372036854775807") is None
    assert ad.datetime_to_filetime(None) == ad.FILETIME_NEVER == 0x7FFFFFFFFFFFFFFF


def test_filetime_bad():
    with pytest.raises(SchemaError, match="pwdLastSet.*negative"):
        ad.filetime_to_datetime(-1, attribute="pwdLastSet")
    with pytest.raises(SchemaError, match="accountExpires.*digits"):
        ad.filetime_to_datetime("soon", attribute="accountExpires")
    with pytest.raises(LdapnbError, match="before 1601"):
        ad.datetime_to_filetime(datetime(1600, 1, 1, tzinfo=UTC))


@given(st.datetimes(min_value=datetime(1601, 1, 2), max_value=datetime(9999, 1, 1)))
def test_filetime_round_trip(moment):
    aware = moment.replace(tzinfo=UTC)
    assert ad.filetime_to_datetime(ad.datetime_to_filetime(aware)) == aware


def test_interval():
    assert ad.interval_to_timedelta("-36288000000000") == timedelta(days=42)
    assert ad.interval_to_timedelta("-9223372036854775808") is None


def test_uac_flags():
    assert ad.uac_flags(66048) == ad.UAC.NORMAL_ACCOUNT | ad.UAC.DONT_EXPIRE_PASSWORD
    assert ad.uac_flags("514") == ad.UAC.NORMAL_ACCOUNT | ad.UAC.ACCOUNTDISABLE
    flags = ad.uac_flags(0x400000 | 0x80000 | 0x1000000 | 0x100000 | 0x20 | 0x10 | 0x1000)
    for name in ("DONT_REQ_PREAUTH", "TRUSTED_FOR_DELEGATION", "TRUSTED_TO_AUTH_FOR_DELEGATION",
                 "NOT_DELEGATED", "PASSWD_NOTREQD", "LOCKOUT", "WORKSTATION_TRUST_ACCOUNT"):
        assert ad.UAC[name] in flags
    assert ad.UAC.SERVER_TRUST_ACCOUNT == 0x2000
    assert ad.UAC.SERVER_TRUST_ACCOUNT not in flags
    with pytest.raises(SchemaError, match="userAccountControl"):
        ad.uac_flags("enabled")


def test_group_type():
    info = ad.group_type("-2147483646")
    assert (info.scope, info.security) == ("global", True)
    assert ad.group_type("-2147483644").scope == "domain local"
    assert ad.group_type("-2147483640").scope == "universal"
    assert ad.group_type("-2147483643").scope == "builtin"
    assert ad.group_type(2) == ad.GroupTypeInfo("global", False, ad.GroupType.ACCOUNT_GROUP)


def test_well_known_names_and_privilege():
    assert ad.sid_name(DA_SID) == "Domain Admins"
    assert ad.sid_name("S-1-5-32-548") == "Account Operators"
    assert ad.sid_name("S-1-5-21-1-2-3-1104") is None
    for number in (512, 516, 518, 519, 520, 521, 526, 527):
        assert ad.is_privileged_sid(f"S-1-5-21-1-2-3-{number}")
    for number in (544, 548, 549, 550, 551):
        assert ad.is_privileged_sid(f"S-1-5-32-{number}")
    assert not ad.is_privileged_sid("S-1-5-21-1-2-3-513")
    assert not ad.is_privileged_sid("S-1-5-32-545")
    assert not ad.is_privileged_sid("S-1-5-32-512")  # a RID means nothing outside a domain
    assert ad.privileged_reason(DA_BYTES) == "RID 512 (Domain Admins)"
    assert "dnsadmins" in ad.PRIVILEGED_NAMES


def test_decode_frame():
    df = pd.DataFrame({
        "dn": ["CN=ann,DC=x", "CN=Domain Admins,DC=x", "CN=bob,DC=x"],
        "userAccountControl": [["4260352"], None, "514"],
        "PwdLastSet": ["0", None, "133000000000000000"],
        "lastLogonTimestamp": [None, None, "133000000000000000"],
        "accountExpires": ["9223372036854775807", None, "0"],
        "objectSid": [None, [DA_BYTES], None],
        "objectGUID": [bytes.fromhex("33221100554477668899aabbccddeeff"), None, None],
        "groupType": [None, "-2147483646", None],
    })
    out = decode_frame_checked(df)
    assert out["disabled"].isna().tolist() == [False, True, False]
    assert not out.loc[0, "disabled"] and out.loc[2, "disabled"]
    assert bool(out.loc[0, "password_never_expires"]) and bool(out.loc[0, "no_preauth"])
    assert bool(out.loc[0, "password_must_change"])
    assert not bool(out.loc[2, "password_must_change"])
    assert out.loc[2, "pwd_last_set"] == pd.Timestamp("2022-06-18 04:26:40", tz="UTC")
    assert pd.isna(out.loc[0, "account_expires"]) and pd.isna(out.loc[2, "account_expires"])
    assert out.loc[1, "sid"] == DA_SID and out.loc[1, "rid"] == 512
    assert out.loc[1, "sid_name"] == "Domain Admins"
    assert out.loc[0, "guid"] == "00112233-4455-6677-8899-aabbccddeeff"
    assert out.loc[1, "group_scope"] == "global" and bool(out.loc[1, "group_security"])
    assert out.loc[0, "uac_flags"] == "NORMAL_ACCOUNT|DONT_EXPIRE_PASSWORD|DONT_REQ_PREAUTH"
    assert "disabled" not in df.columns  # a copy


def decode_frame_checked(df: pd.DataFrame) -> pd.DataFrame:
    out = ad.decode_frame(df)
    assert len(out) == len(df)
    return out


def test_decode_frame_without_ad_columns_adds_missing_columns():
    out = ad.decode_frame(pd.DataFrame({"dn": ["cn=a"], "cn": ["a"]}))
    for column in ("disabled", "pwd_last_set", "sid", "guid", "group_scope"):
        assert column in out.columns and out[column].isna().all()


def test_decode_frame_bad_value_names_entry_and_attribute():
    df = pd.DataFrame({"dn": ["CN=broken,DC=x"], "objectSid": [b"\x01\x05"]})
    with pytest.raises(SchemaError, match="CN=broken,DC=x.*objectSid"):
        ad.decode_frame(df)
    assert pd.isna(ad.decode_frame(df, strict=False).loc[0, "sid"])
