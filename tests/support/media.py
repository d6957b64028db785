"""Small real media files made on the spot: images and voice notes, clean or carrying
metadata, and the headers of decompression bombs."""

import io
import math
import struct
import wave
import zlib

import av
from PIL import Image, ImageCms, PngImagePlugin

GPS_IFD = 0x8825


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(GPS_IFD))


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 255)).save(out, "PNG")
    return out.getvalue()


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        sample_bytes = round(seconds * rate) * 2
        pattern = bytes(range(256))
        audio.writeframes((pattern * (sample_bytes // len(pattern) + 1))[:sample_bytes])
    return out.getvalue()


SECRET = "SECRET-51.5072N"  # what no stored file may contain


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims this size, with almost no data: a decompression bomb's
    first line, which must be refused before anything is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def animated_gif(frames: int = 40, side: int = 64) -> bytes:
    images = [Image.new("P", (side, side), index % 256) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], comment=SECRET)
    return out.getvalue()


def srgb_profile() -> bytes:
    profile: bytes = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile


def xmp() -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
        b'02/22-rdf-syntax-ns#"><rdf:Description>' + SECRET.encode() + b"</rdf:Description>"
        b"</rdf:RDF></x:xmpmeta>"
    )


def image_with_metadata(format_name: str) -> bytes:
    """An image carrying every kind of metadata its format can: EXIF with GPS, comments,
    XMP, text chunks and a colour profile, each naming SECRET."""
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = image.getexif()
    exif[0x010F] = SECRET
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    if format_name == "JPEG":
        image.save(out, "JPEG", exif=exif, comment=SECRET, icc_profile=srgb_profile(), xmp=xmp())
    elif format_name == "PNG":
        text = PngImagePlugin.PngInfo()
        text.add_text("Comment", SECRET)
        text.add_itxt("XML:com.adobe.xmp", xmp().decode())
        image.save(out, "PNG", pnginfo=text, icc_profile=srgb_profile(), exif=exif)
    elif format_name == "WEBP":
        image.save(out, "WEBP", exif=exif, xmp=xmp(), icc_profile=srgb_profile())
    else:
        image.save(out, "GIF", comment=SECRET)
    return out.getvalue()


def wav_with_tags(seconds: float = 1.0) -> bytes:
    """A WAV voice note with a LIST/INFO chunk naming SECRET, after its samples."""
    plain = wav(seconds)
    text = SECRET.encode() + b"\x00"
    info = b"INFO" + b"ICMT" + len(text).to_bytes(4, "little") + text
    listed = plain + b"LIST" + len(info).to_bytes(4, "little") + info
    return listed[:4] + (len(listed) - 8).to_bytes(4, "little") + listed[8:]


def tagged_audio(format_name: str, codec: str, seconds: float = 1.0) -> bytes:
    """A voice note in this container, with tags (title, comment, a location) naming SECRET."""
    rate = 48_000
    out = io.BytesIO()
    with av.open(out, "w", format=format_name) as container:
        container.metadata.update({"title": SECRET, "comment": SECRET, "location": SECRET})
        stream = container.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        stream.metadata.update({"title": SECRET})
        source = av.AudioFrame(format="s16", layout="mono", samples=int(rate * seconds))
        source.planes[0].update(_tone(rate, int(rate * seconds)))
        source.sample_rate = rate
        source.pts = 0
        resampler = av.AudioResampler(
            format=stream.codec_context.format,
            layout="mono",
            rate=rate,
            frame_size=stream.codec_context.frame_size or None,
        )
        for frame in [*resampler.resample(source), *resampler.resample(None)]:
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


def _tone(rate: int, samples: int) -> bytes:
    return b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * index / rate)))
        for index in range(samples)
    )
