"""Addresses as mail carries them: the domain in IDNA form, a non-ASCII local part only with SMTPUTF8."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


def wire_address(address: str) -> str:
    """``address`` (as stored: checked and normalised) in the form the envelope and To: carry.

    An ASCII address stays as it is: one check, for the common case of a large fan-out.
    Otherwise the domain becomes its IDNA (punycode) form, which every server accepts
    (email-validator's own conversion, the one it checked the address with); a local part
    that is still not ASCII needs a server that offers SMTPUTF8 (RFC 6531). Raises
    ValueError for an address that was never checked and is no address at all.
    """
    if address.isascii():
        return address
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"cannot send to {address!r}: {exc}") from None
    return f"{checked.local_part}@{checked.ascii_domain}"
