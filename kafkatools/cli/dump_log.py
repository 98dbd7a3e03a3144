"""`kafka-dump-log`: print the contents of log segments, indexes, producer snapshots and txn indexes.

Kafka 3.9's ``DumpLogSegments`` options and output (kafka-suite.md b.6, c.4); the lines themselves
come from ``kafkatools.storage.dump``, this module only parses options, picks the record parser and
writes.  Our addition: ``--output json`` (one JSON object per line of output).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from kafkatools.cli._common import (
    ExitStatus,
    OutputFormat,
    OutputOption,
    Printer,
    UsageError,
    VersionOption,
    current_env,
    main_for,
    make_app,
)

if TYPE_CHECKING:
    from kafkatools.storage.dump import RecordParser

INT_MAX = 2**31 - 1  # Kafka's --max-bytes default (Integer.MAX_VALUE); storage is imported only to run

app = make_app("Dump the contents of log segments, index files, producer snapshots and transaction indexes.")

_API_PACKAGE = "org.apache.kafka.tools.api."
_OLD_PACKAGE = "kafka.serializer."


def _utf8(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _int(data: bytes) -> str:
    return str(struct.unpack_from(">i", data)[0]) if len(data) >= 4 else f"<{len(data)} bytes, not an int>"


def _long(data: bytes) -> str:
    return str(struct.unpack_from(">q", data)[0]) if len(data) >= 8 else f"<{len(data)} bytes, not a long>"


# DefaultDecoder returns the bytes themselves; Java prints an array's identity, we print them as UTF-8.
_DECODERS = {"StringDecoder": _utf8, "DefaultDecoder": _utf8, "IntegerDecoder": _int, "LongDecoder": _long}


def resolve_decoder(name: str, notices: list[str]) -> Callable[[bytes], str]:
    """The bytes -> text function for a decoder class name (new, old ``kafka.serializer`` or bare name)."""
    simple = name.rsplit(".", 1)[-1]
    if simple not in _DECODERS or (name != simple and not name.startswith((_API_PACKAGE, _OLD_PACKAGE))):
        raise UsageError(f"unknown decoder class {name}; kafkatools knows {', '.join(sorted(_DECODERS))}"
                         f" (as {_API_PACKAGE}<name>)")
    if name.startswith(_OLD_PACKAGE):
        notices.append(f"Warning: {name} is deprecated, using {_API_PACKAGE}{simple} instead.")
    return _DECODERS[simple]


def _decoder_parser(key_class: str | None, value_class: str | None, notices: list[str]) -> RecordParser:
    decode_key = resolve_decoder(key_class or _API_PACKAGE + "StringDecoder", notices)
    decode_value = resolve_decoder(value_class or _API_PACKAGE + "StringDecoder", notices)

    def parse(key: bytes | None, value: bytes | None) -> tuple[str | None, str | None]:
        return (None if key is None else decode_key(key), None if value is None else decode_value(value))

    return parse


@app.command(no_args_is_help=True)
def dump_log(
    files: Annotated[str | None, typer.Option(
        "--files", metavar="file1,file2,...",
        help="REQUIRED: the comma separated list of data and index log files to be dumped.")] = None,
    print_data_log: Annotated[bool, typer.Option(
        "--print-data-log", help="Print the records' keys and values; implied by any decoder option.")] = False,
    deep_iteration: Annotated[bool, typer.Option(
        "--deep-iteration", help="Print every record, not only batches; implied by --print-data-log.")] = False,
    skip_record_metadata: Annotated[bool, typer.Option(
        "--skip-record-metadata", help="Print only the key and payload of each record.")] = False,
    verify_index_only: Annotated[bool, typer.Option(
        "--verify-index-only", help="Check index entries against the log without printing them.")] = False,
    index_sanity_check: Annotated[bool, typer.Option(
        "--index-sanity-check",
        help="Only run the index sanity check brokers historically ran at start-up.")] = False,
    max_message_size: Annotated[int, typer.Option(
        "--max-message-size", metavar="size", help="Bytes read per index entry when verifying an index.")]
        = 5 * 1024 * 1024,
    max_bytes: Annotated[int, typer.Option(
        "--max-bytes", metavar="size", help="Read at most this many bytes of each .log file.")] = INT_MAX,
    value_decoder_class: Annotated[str | None, typer.Option(
        "--value-decoder-class", metavar="class",
        help="Value decoder: StringDecoder (default), IntegerDecoder, LongDecoder or DefaultDecoder.")] = None,
    key_decoder_class: Annotated[str | None, typer.Option(
        "--key-decoder-class", metavar="class", help="Key decoder, as for --value-decoder-class.")] = None,
    offsets_decoder: Annotated[bool, typer.Option(
        "--offsets-decoder", help="Decode records as __consumer_offsets keys and values (JSON).")] = False,
    transaction_log_decoder: Annotated[bool, typer.Option(
        "--transaction-log-decoder", help="Decode records as __transaction_state keys and values (JSON).")] = False,
    cluster_metadata_decoder: Annotated[bool, typer.Option(
        "--cluster-metadata-decoder",
        help="Show KRaft metadata records' type and version (their bodies are not decoded).")] = False,
    remote_log_metadata_decoder: Annotated[bool, typer.Option(
        "--remote-log-metadata-decoder", help="Not supported by kafkatools.")] = False,
    output: OutputOption = OutputFormat.TEXT,
    version: VersionOption = False,
) -> int:
    """Dump the contents of log segments, index files, producer snapshots and transaction indexes."""
    env = current_env()
    if not files:
        raise UsageError('Missing required argument "[files]"')
    if max_message_size <= 0 or max_bytes <= 0:
        raise UsageError("--max-message-size and --max-bytes must be positive")
    if remote_log_metadata_decoder:
        env.stderr.write("kafka-dump-log: --remote-log-metadata-decoder is not supported by kafkatools\n")
        return ExitStatus.UNAVAILABLE
    from kafkatools.storage import coordinator_records
    from kafkatools.storage.dump import DumpOptions, Problems, dump_file

    notices: list[str] = []
    parser: RecordParser
    if offsets_decoder:
        parser = coordinator_records.format_offsets_record
    elif transaction_log_decoder:
        parser = coordinator_records.format_transaction_record
    elif cluster_metadata_decoder:
        parser = coordinator_records.format_metadata_record
        env.stderr.write("kafka-dump-log: --cluster-metadata-decoder shows each record's apiKey and version; "
                         "kafkatools does not decode KRaft metadata record bodies\n")
    else:
        parser = _decoder_parser(key_decoder_class, value_decoder_class, notices)
    print_data = (print_data_log or offsets_decoder or transaction_log_decoder or cluster_metadata_decoder
                  or value_decoder_class is not None or key_decoder_class is not None)
    options = DumpOptions(
        print_data=print_data, deep_iteration=deep_iteration or print_data, skip_record_metadata=skip_record_metadata,
        verify_index_only=verify_index_only, index_sanity_only=index_sanity_check,
        max_message_size=max_message_size, max_bytes=max_bytes, parser=parser,
    )
    printer = Printer(output, env.stdout)
    for notice in notices:
        printer.emit(notice, {"kind": "notice", "message": notice})
    problems = Problems()
    for path in (p for p in files.split(",") if p):
        for line in dump_file(path, options, problems):
            if line.err:
                env.stdout.flush()
                env.stderr.write(line.text + "\n")
            else:
                printer.emit(line.text, line.data)
    env.stdout.flush()
    for text in problems.lines():
        env.stderr.write(text + "\n")
    return ExitStatus.ERROR if problems.failures else ExitStatus.OK


main = main_for(app, "kafka-dump-log")
