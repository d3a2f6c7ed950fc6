"""What the enrolment route reads before any face is looked for: the multipart body and the
photos' headers. Any bytes give parts or a clear refusal, never another exception."""

from __future__ import annotations

import contextlib

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.api.multipart import FormError, parse_form
from hub.enrolment import PhotoError, decode_photo, image_kind, image_size

TYPE = "multipart/form-data; boundary=XyZ"


def body(*parts: bytes) -> bytes:
    return b"".join(b"--XyZ\r\n" + p + b"\r\n" for p in parts) + b"--XyZ--\r\n"


def test_a_browser_s_form_reads_back_byte_for_byte() -> None:
    photo = bytes(range(256)) * 40 + b"\r\n--Xy\r\n\r\n"  # CRLFs and a near-boundary inside
    parts = parse_form(TYPE, body(
        b'Content-Disposition: form-data; name="student"\r\n\r\nhs-01',
        b'Content-Disposition: form-data; name="photos"; filename="a b.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + photo,
    ))  # fmt: skip
    assert [(p.name, p.filename, p.content_type) for p in parts] == [
        ("student", None, "text/plain"), ("photos", "a b.jpg", "image/jpeg"),
    ]  # fmt: skip
    assert parts[0].text() == "hs-01"
    assert parts[1].data == photo


@pytest.mark.parametrize(
    ("content_type", "data", "problem"),
    [
        ("application/json", b"{}", "must be multipart/form-data"),
        ("multipart/form-data", b"", "no boundary"),
        (TYPE, b"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx", "cut short"),
        (TYPE, body(b"Content-Disposition: attachment; name=a\r\n\r\nx"), "not form-data"),
        (TYPE, body(b"Content-Disposition: form-data\r\n\r\nx"), "no name"),
        (TYPE, body(b"no colon\r\n\r\nx"), "no ':'"),
        (TYPE, body(*[b"Content-Disposition: form-data; name=a\r\n\r\nx"] * 17), "16 parts"),
    ],
)
def test_a_body_that_is_not_a_form_is_refused_saying_why(
    content_type: str, data: bytes, problem: str
) -> None:
    with pytest.raises(FormError, match=problem):
        parse_form(content_type, data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([TYPE, 'multipart/form-data; boundary="a"']))
def test_any_bytes_give_parts_or_a_form_error(data: bytes, content_type: str) -> None:
    with contextlib.suppress(FormError):
        parse_form(content_type, b"--XyZ\r\n" + data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"]), st.binary(max_size=400))
def test_any_bytes_after_an_image_signature_give_a_photo_error_or_an_image(
    signature: bytes, rest: bytes
) -> None:
    try:
        image = decode_photo("photos[0]", signature + rest, max_bytes=10_000, max_px=4000)
        outcome = f"an image of {image.ndim} dimensions"
    except PhotoError as exc:
        outcome = exc.reason
    assert outcome in {"not_an_image", "too_many_pixels", "an image of 3 dimensions"}


def test_sizes_are_read_from_the_headers_without_decoding() -> None:
    image = np.zeros((30, 50, 3), np.uint8)
    for suffix, kind in ((".png", "png"), (".jpg", "jpeg")):
        ok, data = cv2.imencode(suffix, image)
        assert ok
        assert image_kind(bytes(data)) == kind
        assert image_size(bytes(data), kind) == (50, 30)
    assert image_kind(b"GIF89a") is None
    assert image_kind(b"%PDF-1.7") is None
