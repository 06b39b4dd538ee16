"""What a caller may write into a customer: JSON Merge Patch of nested objects (RFC 7396) and
no mask strings as values.

A PATCH of ``{"address": {"region": "Beijing"}}`` changes the region and keeps the other address
parts; ``null`` removes a member (at any depth). The audit entry names the sub-fields that changed
(``address.region``), never their values.

Masked values are what a role that sees a field masked reads (``a***@example.com``,
``[masked]``). Written back by a read-modify-write client they would overwrite the real value
for everyone, so a value that is the mask of the current value, or that has the shape of a mask
(two stars in a row, ``[masked]``), is refused with a 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.errors import ValidationError
from governance.security.masking import TEXT_MASK, default_visibility, mask_value

NESTED = ("address", "marketing")
SUBFIELDS = {
    "address": ("line1", "line2", "city", "region", "postal_code"),
    "marketing": ("email", "sms", "phone", "post"),
}
MASK_MARK = "**"  # every mask of a name, email, phone, id number or date holds two stars


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 section 2 ``MergePatch(Target, Patch)``: objects merge, ``null`` removes."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def merge_nested(data: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """The patch with each nested object merged onto the stored one (before validation)."""
    merged = dict(data)
    for name in NESTED:
        if isinstance(data.get(name), dict):
            merged[name] = merge_patch(current.get(name) or {}, data[name])
    return merged


def changed_subfields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Dotted names of the nested members whose value differs (``address.region``)."""
    changed = []
    for name in NESTED:
        if name not in after:
            continue
        old, new = before.get(name) or {}, after.get(name) or {}
        changed += [f"{name}.{k}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
    return changed


def attempted_fields(data: Any, known: tuple[str, ...]) -> dict[str, Any]:
    """Names of the fields a request tried to write, for the audit entry of a refusal.

    Only known names are recorded (a key may itself be personal data); others are counted.
    """
    if not isinstance(data, dict):
        return {"fields": [], "subfields": [], "unknown_fields": 0}
    fields = sorted(name for name in data if name in known)
    subfields = sorted(
        f"{name}.{part}"
        for name in NESTED
        if isinstance(data.get(name), dict)
        for part in data[name]
        if part in SUBFIELDS[name]
    )
    return {"fields": fields, "subfields": subfields, "unknown_fields": len(data) - len(fields)}


def refuse_masks(data: Any, current: Mapping[str, Any]) -> None:
    """Raise ValidationError (422) naming every field whose value is a mask, not data."""
    if not isinstance(data, dict):
        return
    masks = default_visibility().masks
    errors = []
    for name, value in data.items():
        if isinstance(value, str) and _is_mask(masks.get(name, "text"), value, current.get(name)):
            errors.append(name)
        elif name == "address" and isinstance(value, dict):
            parts = [k for k, v in value.items() if _is_mask("text", v, None)]
            errors += [f"address.{part}" for part in parts]
    if errors:
        message = "is a masked value, not data: send the real value or leave the field out"
        raise ValidationError(
            "masked values cannot be written", [{"field": f, "message": message} for f in errors]
        )


def _is_mask(kind: str, value: Any, current: Any) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    if text == TEXT_MASK or (kind != "text" and MASK_MARK in text):
        return True
    if current is None or current == "" or isinstance(current, dict | list):
        return False
    masked = mask_value(kind, current)
    return bool(masked != current and text == masked)
