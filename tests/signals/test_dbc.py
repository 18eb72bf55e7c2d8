"""The vectorised decoder against cantools' own per-frame decoder, on real DBC files."""

from pathlib import Path

import cantools
import numpy as np
import pytest

from twinloop.errors import DataError
from twinloop.signals.dbc import DbcDecoder, load_dbc
from twinloop.signals.frames import FrameBatch

DBC_DIR = Path(__file__).parent.parent / "data" / "opendbc"
REAL_DBCS = [
    "tesla_model3_party.dbc",
    "tesla_model3_vehicle.dbc",
    "gm_global_a_high_voltage_management.dbc",
    "toyota_prius_2010_pt.dbc",
    "bmw_e9x_e8x.dbc",
    "cadillac_ct6_powertrain.dbc",
]


def random_frames(
    db: cantools.database.can.Database, n: int, seed: int
) -> list[tuple[float, int, bytes]]:
    rng = np.random.default_rng(seed)
    msgs = db.messages
    pick = rng.integers(0, len(msgs), n)
    return [
        (
            1.7e9 + i * 1e-3,
            msgs[k].frame_id,
            rng.integers(0, 256, msgs[k].length, dtype=np.uint8).tobytes(),
        )
        for i, k in enumerate(pick.tolist())
    ]


def oracle(db, frames):
    """cantools, one frame at a time: {(message, signal): (times, values)} and failures."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    failed = 0
    for t, fid, payload in frames:
        msg = db.get_message_by_frame_id(fid)
        try:
            decoded = msg.decode(payload, decode_choices=False)
        except cantools.database.DecodeError:
            failed += 1
            continue
        for name, value in decoded.items():
            out.setdefault((msg.name, name), []).append((t, value))
    return out, failed


@pytest.mark.parametrize("name", REAL_DBCS)
def test_decoded_values_are_identical_to_cantools(name):
    db = load_dbc(DBC_DIR / name)
    frames = random_frames(db, 6000, seed=len(name))
    result = DbcDecoder(db).decode(FrameBatch.from_frames(frames))
    expected, failed = oracle(db, frames)
    assert sum(result.bad_multiplexer.values()) == failed
    assert set(result.signals) == set(expected)
    for key, pairs in expected.items():
        got = result.signals[key]
        times = np.array([p[0] for p in pairs])
        values = np.array([p[1] for p in pairs], dtype=np.float64)
        np.testing.assert_array_equal(got.time, times, err_msg=str(key))
        np.testing.assert_array_equal(got.value, values, err_msg=str(key))


def test_the_test_files_cover_signed_big_endian_and_multiplexed_signals():
    kinds = set()
    for name in REAL_DBCS:
        for m in load_dbc(DBC_DIR / name).messages:
            for s in m.signals:
                kinds.add(("big" if s.byte_order == "big_endian" else "little", s.is_signed))
                if s.multiplexer_ids:
                    kinds.add("mux")
    assert {("big", True), ("big", False), ("little", True), ("little", False), "mux"} <= kinds


def test_unknown_ids_and_wrong_lengths_are_counted_not_decoded():
    db = load_dbc(DBC_DIR / "tesla_model3_party.dbc")
    speed = db.get_message_by_name("DI_speed")
    frames = [
        (1.0, speed.frame_id, bytes(8)),
        (2.0, speed.frame_id, bytes(5)),  # truncated payload
        (3.0, 0x7FF, bytes(8)),  # not in the DBC
        (4.0, 0x7FF, bytes(8)),
    ]
    res = DbcDecoder(db).decode(FrameBatch.from_frames(frames))
    assert res.unknown_ids == {0x7FF: 2}
    assert res.wrong_length == {("DI_speed", 5): 1}
    assert res.signals["DI_speed", "DI_vehicleSpeed"].time.tolist() == [1.0]


def test_only_decodes_requested_signals_plus_their_multiplexers():
    db = load_dbc(DBC_DIR / "gm_global_a_high_voltage_management.dbc")
    dec = DbcDecoder(db, only=[("Battery_Module_1", "Voltage_1_3_B")])
    frames = random_frames(db, 2000, seed=3)
    res = dec.decode(FrameBatch.from_frames(frames))
    assert set(res.signals) <= {
        ("Battery_Module_1", "Voltage_1_3_B"),
        ("Battery_Module_1", "Cell_Bank_Number_1"),
    }
    expected, _ = oracle(db, frames)
    np.testing.assert_array_equal(
        res.signals["Battery_Module_1", "Voltage_1_3_B"].value,
        [v for _, v in expected["Battery_Module_1", "Voltage_1_3_B"]],
    )


def test_a_dbc_that_does_not_parse_is_a_data_error():
    with pytest.raises(DataError, match="not a valid DBC"):
        load_dbc(DBC_DIR / "chrysler_cusw.dbc")


def test_garbage_file_is_a_data_error(tmp_path):
    f = tmp_path / "x.dbc"
    f.write_text("BO_ this is not a dbc {{{")
    with pytest.raises(DataError):
        load_dbc(f)


def test_float_signals_match_cantools():
    db = cantools.database.load_string(
        'VERSION ""\nBO_ 1 F: 8 X\n SG_ A : 0|32@1- (1,0) [0|0] "" X\n SG_ B : 39|32@0- (2,1) [0|0] "" X\n'
        "SIG_VALTYPE_ 1 A : 1;\nSIG_VALTYPE_ 1 B : 1;\n",
        database_format="dbc",
    )
    frames = random_frames(db, 500, seed=1)
    res = DbcDecoder(db).decode(FrameBatch.from_frames(frames))
    expected, _ = oracle(db, frames)
    for key, pairs in expected.items():
        np.testing.assert_array_equal(
            res.signals[key].value, np.array([p[1] for p in pairs], dtype=float)
        )
