"""Registry of public ECG databases: what they are, where they live, how they are labelled.

One :class:`Database` entry per database. Facts (PhysioNet slug, version,
sampling rate, lead count, record count, licence, citation) come from each
database's PhysioNet project page ``https://physionet.org/content/<slug>/<version>/``
and its README/RECORDS files (checked 2025); CPSC 2021 record counts from the
challenge description (730 + 706 records). ``size_mb`` is an *estimate*:
records x duration x fs x leads x bytes per stored sample, rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import DatasetError

__all__ = ["Database", "DATABASES", "PHYSIONET_CITATION", "get_database", "database_names"]

#: The standard PhysioNet citation every database asks for.
PHYSIONET_CITATION = (
    "Goldberger AL, Amaral LAN, Glass L, Hausdorff JM, Ivanov PCh, Mark RG, Mietus JE, "
    "Moody GB, Peng C-K, Stanley HE. PhysioBank, PhysioToolkit, and PhysioNet: components of a "
    "new research resource for complex physiologic signals. Circulation 101(23):e215-e220 (2000)."
)

ODC_BY = "ODC-By-1.0"
CC_BY = "CC-BY-4.0"
_LUDB_LEADS = ("i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6")
_TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@dataclass(frozen=True)
class Database:
    """One public database.

    Attributes:
        name: registry name (``"mitdb"``); local copies live in ``<root>/<name>``.
        title: full title.
        slug, version: PhysioNet project slug and version
            (files at ``https://physionet.org/files/<slug>/<version>/``).
        fs: sampling rate in Hz of the records ecgscope reads.
        n_leads: number of ECG signals per record.
        leads: lead names as stored (typical record; some databases vary).
        n_records: number of records.
        records: record names inline (small databases); empty tuple means
            "read them from the RECORDS file".
        records_dir: folder (relative to the version root) holding RECORDS
            and the records, ``""`` for the root.
        record_filter: regular expression a record path must match
            (e.g. PTB-XL's 500 Hz copies only), ``""`` for all.
        annotators: annotation file extensions that carry labels.
        extra_files: metadata files (relative to the version root) fetched
            with any download: RECORDS, label tables, ...
        annotation_only: records without signal files (skipped by ``load``
            unless asked for by name).
        labels: how labels are encoded, in words.
        label_scheme: key of the label attacher used by :func:`ecgscope.datasets.load`.
        patients: how records map to patients, in words.
        licence: SPDX-style licence identifier.
        citation: the database paper (cite it together with :data:`PHYSIONET_CITATION`).
        size_mb: estimated uncompressed size in MB (``None`` when unknown).
    """

    name: str
    title: str
    slug: str
    version: str
    fs: float
    n_leads: int
    leads: tuple[str, ...]
    n_records: int
    records: tuple[str, ...] = ()
    records_dir: str = ""
    record_filter: str = ""
    annotators: tuple[str, ...] = ()
    extra_files: tuple[str, ...] = ("RECORDS",)
    annotation_only: tuple[str, ...] = ()
    labels: str = ""
    label_scheme: str = "none"
    patients: str = "one patient per record"
    licence: str = ODC_BY
    citation: str = ""
    size_mb: float | None = None
    notes: str = ""
    physionet_citation: str = field(default=PHYSIONET_CITATION, repr=False)

    @property
    def url_path(self) -> str:
        """``"<slug>/<version>/"``, appended to the PhysioNet files URL."""
        return f"{self.slug}/{self.version}/"

    @property
    def citations(self) -> tuple[str, str]:
        """The database paper and the PhysioNet citation."""
        return (self.citation, self.physionet_citation)

    @property
    def records_file(self) -> str:
        """Path of the RECORDS file relative to the version root."""
        return f"{self.records_dir}/RECORDS" if self.records_dir else "RECORDS"


def _range(prefix: str, *spans: tuple[int, int], width: int = 0) -> tuple[str, ...]:
    """Record names ``prefix + number`` for inclusive ``(first, last)`` spans."""
    return tuple(f"{prefix}{i:0{width}d}" for a, b in spans for i in range(a, b + 1))


# MIT-BIH Arrhythmia Database: 48 records (mitdb RECORDS file).
_MITDB_RECORDS = _range(
    "", (100, 109), (111, 119), (121, 124), (200, 203), (205, 205), (207, 210), (212, 215),
    (217, 217), (219, 223), (228, 228), (230, 234),
)
# MIT-BIH Supraventricular Arrhythmia Database: 800-812, 820-829, 840-894.
_SVDB_RECORDS = _range("", (800, 812), (820, 829), (840, 894))
# MIT-BIH Atrial Fibrillation Database: 23 records with signals, 2 (00735, 03665) annotations only.
_AFDB_RECORDS = (
    "00735", "03665", "04015", "04043", "04048", "04126", "04746", "04908", "04936", "05091",
    "05121", "05261", "06426", "06453", "06995", "07162", "07859", "07879", "07910", "08215",
    "08219", "08378", "08405", "08434", "08455",
)
# MIT-BIH Noise Stress Test Database: 118/119 at six SNRs + three noise records.
_NSTDB_RECORDS = tuple(
    f"{r}e{snr}" for r in ("118", "119") for snr in ("24", "18", "12", "06", "00", "_6")
) + ("bw", "em", "ma")

_ENTRIES = [
    Database(
        name="mitdb",
        title="MIT-BIH Arrhythmia Database",
        slug="mitdb", version="1.0.0", fs=360.0, n_leads=2, leads=("MLII", "V1"),
        n_records=48, records=_MITDB_RECORDS,
        annotators=("atr",), extra_files=("RECORDS", "ANNOTATORS"),
        labels="beat annotations in 'atr' (MIT-BIH codes N L R A V ...); rhythm changes as '+' "
               "with aux '(N', '(AFIB', '(VT' ...",
        label_scheme="beats",
        patients="one patient per record except 201 and 202 (same patient)",
        citation="Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. "
                 "IEEE Eng Med Biol 20(3):45-50 (2001).",
        size_mb=100.0,
        notes="second lead is V1, V2, V4 or V5 depending on the record; 102, 104, 107, 217 are paced",
    ),
    Database(
        name="svdb",
        title="MIT-BIH Supraventricular Arrhythmia Database",
        slug="svdb", version="1.0.0", fs=128.0, n_leads=2, leads=("ECG1", "ECG2"),
        n_records=78, records=_SVDB_RECORDS,
        annotators=("atr",),
        labels="beat annotations in 'atr' (MIT-BIH codes); rhythm in aux",
        label_scheme="beats",
        citation="Greenwald SD, Patil RS, Mark RG. Improved detection and classification of "
                 "arrhythmias in noise-corrupted electrocardiograms using contextual information. "
                 "Computers in Cardiology 17:461-464 (1990).",
        size_mb=54.0,
    ),
    Database(
        name="incartdb",
        title="St Petersburg INCART 12-lead Arrhythmia Database",
        slug="incartdb", version="1.0.0", fs=257.0, n_leads=12, leads=_TWELVE,
        n_records=75, records=_range("I", (1, 75), width=2),
        annotators=("atr",),
        labels="beat annotations in 'atr' (MIT-BIH codes)",
        label_scheme="beats",
        patients="75 records from 32 patients; the record-to-patient map is not published, "
                 "so each record is its own patient here",
        citation="Tihonenko V, Khaustov A, Ivanov S, Rivin A, Yakushenko E. St Petersburg INCART "
                 "12-lead Arrhythmia Database. PhysioBank, PhysioToolkit, and PhysioNet (2008). "
                 "doi:10.13026/C2V88N.",
        size_mb=833.0,
    ),
    Database(
        name="afdb",
        title="MIT-BIH Atrial Fibrillation Database",
        slug="afdb", version="1.0.0", fs=250.0, n_leads=2, leads=("ECG1", "ECG2"),
        n_records=25, records=_AFDB_RECORDS,
        annotators=("atr", "qrs"), annotation_only=("00735", "03665"),
        labels="rhythm in 'atr' aux ('(AFIB', '(AFL', '(J', '(N'); unaudited beats in 'qrs'",
        label_scheme="rhythm",
        citation="Moody GB, Mark RG. A new method for detecting atrial fibrillation using R-R "
                 "intervals. Computers in Cardiology 10:227-230 (1983).",
        size_mb=621.0,
        notes="00735 and 03665 have annotations only (no signal files)",
    ),
    Database(
        name="nstdb",
        title="MIT-BIH Noise Stress Test Database",
        slug="nstdb", version="1.0.0", fs=360.0, n_leads=2, leads=("MLII", "V1"),
        n_records=15, records=_NSTDB_RECORDS,
        annotators=("atr",),
        labels="beat annotations in 'atr' (copied from mitdb 118 and 119); bw, em, ma are noise only",
        label_scheme="beats",
        patients="118e* from mitdb patient 118, 119e* from 119; noise records have no patient",
        citation="Moody GB, Muldrow WE, Mark RG. A noise stress test for arrhythmia detectors. "
                 "Computers in Cardiology 11:381-384 (1984).",
        size_mb=29.0,
    ),
    Database(
        name="ludb",
        title="Lobachevsky University Electrocardiography Database",
        slug="ludb", version="1.0.1", fs=500.0, n_leads=12, leads=_LUDB_LEADS,
        n_records=200, records=_range("data/", (1, 200)),
        annotators=_LUDB_LEADS, extra_files=("RECORDS", "ANNOTATORS"),
        labels="per-lead wave annotations (files .i .ii ... .v6: '(' onset, 'p'/'N'/'t' peak, ')' "
               "offset); age, sex, rhythm and diagnoses in the header comments",
        label_scheme="ludb",
        citation="Kalyakulina AI, Yusipov II, Moskalenko VA, Nikolskiy AV, Kosonogov KA, Osipov GV, "
                 "Zolotykh NY, Ivanchenko MV. LUDB: a new open-access validation tool for "
                 "electrocardiogram delineation algorithms. IEEE Access 8:186181-186190 (2020).",
        size_mb=24.0,
    ),
    Database(
        name="qtdb",
        title="QT Database",
        slug="qtdb", version="1.0.0", fs=250.0, n_leads=2, leads=("MLII", "V1"),
        n_records=105,
        annotators=("q1c", "q2c", "qt1", "qt2", "pu", "pu0", "pu1", "atr", "man"),
        labels="manual wave boundaries in 'q1c'/'q2c' (and 'qt1'/'qt2'); automatic 'pu', 'pu0', 'pu1'; "
               "beats in 'atr' where the source database had them",
        label_scheme="waves",
        patients="records are excerpts of other databases (sel100 is mitdb 100, ...); "
                 "each record is its own patient here",
        citation="Laguna P, Mark RG, Goldberger AL, Moody GB. A database for evaluation of algorithms "
                 "for measurement of QT and other waveform intervals in the ECG. "
                 "Computers in Cardiology 24:673-676 (1997).",
        size_mb=71.0,
    ),
    Database(
        name="cinc2017",
        title="AF Classification from a Short Single Lead ECG Recording: "
              "the PhysioNet/Computing in Cardiology Challenge 2017 (training set)",
        slug="challenge-2017", version="1.0.0", fs=300.0, n_leads=1, leads=("ECG",),
        n_records=8528, records_dir="training",
        extra_files=("training/RECORDS", "training/REFERENCE.csv", "REFERENCE-v3.csv"),
        labels="one label per record in REFERENCE.csv: N normal, A AF, O other rhythm, ~ noisy",
        label_scheme="cinc2017",
        patients="patient identity is not published; one patient per record is assumed",
        citation="Clifford GD, Liu C, Moody B, Lehman LH, Silva I, Li Q, Johnson AE, Mark RG. "
                 "AF classification from a short single lead ECG recording: the PhysioNet/Computing "
                 "in Cardiology Challenge 2017. Computing in Cardiology 44 (2017). "
                 "doi:10.22489/CinC.2017.065-469.",
        size_mb=166.0,
        notes="signals in WFDB-headed .mat files; 9-61 s each",
    ),
    Database(
        name="ptbxl",
        title="PTB-XL, a large publicly available electrocardiography dataset",
        slug="ptb-xl", version="1.0.3", fs=500.0, n_leads=12, leads=_TWELVE,
        n_records=21799, record_filter=r"(^|/)records500/",
        extra_files=("RECORDS", "ptbxl_database.csv", "scp_statements.csv"),
        labels="SCP-ECG statements with likelihoods in ptbxl_database.csv (scp_codes), "
               "plus age, sex, patient_id and the recommended strat_fold",
        label_scheme="ptbxl",
        patients="patient_id column of ptbxl_database.csv (21,799 records from 18,869 patients)",
        licence=CC_BY,
        citation="Wagner P, Strodthoff N, Bousseljot R-D, Kreiseler D, Lunze FI, Samek W, "
                 "Schaeffter T. PTB-XL, a large publicly available electrocardiography dataset. "
                 "Scientific Data 7:154 (2020).",
        size_mb=3139.0,
        notes="10 s records at 500 Hz (records500/) and 100 Hz (records100/); ecgscope reads 500 Hz",
    ),
    Database(
        name="chapman",
        title="A large scale 12-lead electrocardiogram database for arrhythmia study",
        slug="ecg-arrhythmia", version="1.0.0", fs=500.0, n_leads=12, leads=_TWELVE,
        n_records=45152, record_filter=r"^WFDBRecords/",
        extra_files=("RECORDS", "ConditionNames_SNOMED-CT.csv"),
        labels="SNOMED CT codes in the header comment '#Dx: 426177001,164934002'; "
               "age and sex in '#Age:' and '#Sex:'",
        label_scheme="snomed",
        licence=CC_BY,
        citation="Zheng J, Zhang J, Danioko S, Yao H, Guo H, Rakovski C. A 12-lead "
                 "electrocardiogram database for arrhythmia research covering more than 10,000 "
                 "patients. Scientific Data 7:48 (2020); Zheng J, Guo H, Chu H. A large scale "
                 "12-lead electrocardiogram database for arrhythmia study (version 1.0.0). "
                 "PhysioNet (2022). doi:10.13026/wgex-er52.",
        size_mb=5418.0,
    ),
    Database(
        name="cpsc2021",
        title="Paroxysmal Atrial Fibrillation Events Detection from Dynamic ECG Recordings: "
              "the 4th China Physiological Signal Challenge 2021",
        slug="cpsc2021", version="1.0.0", fs=200.0, n_leads=2, leads=("I", "II"),
        n_records=1436,
        annotators=("atr",),
        labels="AF episodes as rhythm changes in 'atr' aux ('(AFIB', '(AFL', '(N') with beat "
               "annotations; record class (non AF, persistent AF, paroxysmal AF) in the header comment",
        label_scheme="cpsc2021",
        patients="record data_<patient>_<n>: the middle number is the patient",
        licence=CC_BY,
        citation="Wang X, Ma C, Zhang X, Gao H, Clifford GD, Liu C. Paroxysmal atrial fibrillation "
                 "events detection from dynamic ECG recordings: the 4th China Physiological Signal "
                 "Challenge 2021 (version 1.0.0). PhysioNet (2021). doi:10.13026/ksya-qw89.",
        notes="training_I (730 records) and training_II (706 records)",
    ),
]

#: Registry name -> :class:`Database`.
DATABASES: dict[str, Database] = {db.name: db for db in _ENTRIES}

_ALIASES = {
    "challenge-2017": "cinc2017", "ptb-xl": "ptbxl", "ecg-arrhythmia": "chapman",
    "mit-bih": "mitdb", "mitbih": "mitdb",
}


def database_names() -> list[str]:
    """Registry names in registry order."""
    return list(DATABASES)


def get_database(name: str) -> Database:
    """The :class:`Database` called ``name`` (PhysioNet slugs accepted as aliases)."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in DATABASES:
        raise DatasetError(
            f"unknown database {name!r}",
            fix=f"use one of {', '.join(DATABASES)} (see `ecgscope data list`)",
        )
    return DATABASES[key]
