"""The lakehouse's tables: where each lives, and the Delta reads and writes jobs share.

Names are the ones DESIGN.md uses (`bronze.trajectories`, `gold.exclusions`, ...); locations
come from conf (`tables.<layer>.<name>: zone:relative/path`), so the operational and curated
zones can sit on separately permissioned roots.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import ArrayType, DataType, MapType, StructField, StructType

from jobs.errors import ConfError, StorageError
from jobs.settings import Settings, flatten

ZONES = ("raw", "operational", "curated")


def storage_uri(root: str) -> str:
    """A Hadoop URI for a configured root: URIs kept as they are, local paths made absolute."""
    if "://" in root or root.startswith("file:"):
        return root.rstrip("/")
    return Path(root).expanduser().resolve().as_uri()


def as_nullable(data_type: DataType) -> DataType:
    """The type with every field, array element and map value nullable (what Delta stores for a
    DataFrame write; declared non-null fields would become NOT NULL constraints)."""
    if isinstance(data_type, StructType):
        return StructType([StructField(f.name, as_nullable(f.dataType), True, f.metadata) for f in data_type.fields])
    if isinstance(data_type, ArrayType):
        return ArrayType(as_nullable(data_type.elementType), True)
    if isinstance(data_type, MapType):
        return MapType(data_type.keyType, as_nullable(data_type.valueType), True)
    return data_type


@dataclass(frozen=True)
class TableInfo:
    name: str
    path: str
    exists: bool
    version: int | None
    rows: int | None


class Lake:
    """Named Delta tables under the configured storage roots."""

    def __init__(self, spark: SparkSession, settings: Settings):
        self.spark = spark
        self.settings = settings
        self._locations = {
            name: spec for name, spec in flatten(settings["tables"]).items()
        }

    # -- locations -------------------------------------------------------------------------
    @property
    def table_names(self) -> list[str]:
        return list(self._locations)

    def root(self, zone: str) -> str:
        if zone not in ZONES:
            raise ConfError(f"unknown storage zone '{zone}' (zones: {', '.join(ZONES)})")
        return storage_uri(str(self.settings[f"storage.{zone}"]))

    def path(self, name: str) -> str:
        spec = self._locations.get(name)
        if spec is None:
            raise ConfError(f"unknown table '{name}' (tables: {', '.join(self.table_names)})")
        zone, _, relative = str(spec).partition(":")
        if not relative:
            raise ConfError(f"tables.{name} must look like zone:relative/path, got '{spec}'")
        return f"{self.root(zone)}/{relative.strip('/')}"

    def filesystem(self, uri: str):
        """(Hadoop FileSystem, Path) for a URI: the same code lists file://, s3a://, hdfs://."""
        jvm = self.spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path(uri)
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        return hadoop_path.getFileSystem(conf), hadoop_path

    def path_exists(self, uri: str) -> bool:
        fs, hadoop_path = self.filesystem(uri)
        return bool(fs.exists(hadoop_path))

    def require_raw_root(self) -> str:
        raw = self.root("raw")
        if not self.path_exists(raw):
            raise StorageError(
                f"raw storage root does not exist: {raw} (storage.raw = {self.settings['storage.raw']})"
            )
        return raw

    # -- Delta ----------------------------------------------------------------------------
    def exists(self, name: str) -> bool:
        return DeltaTable.isDeltaTable(self.spark, self.path(name))

    def delta(self, name: str) -> DeltaTable:
        return DeltaTable.forPath(self.spark, self.path(name))

    def read(self, name: str, version: int | None = None) -> DataFrame:
        if not self.exists(name):
            raise StorageError(f"table {name} does not exist yet at {self.path(name)}; run the stage that writes it")
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        return reader.load(self.path(name))

    def read_or_empty(self, name: str, schema: StructType) -> DataFrame:
        if self.exists(name):
            return self.read(name)
        return self.spark.createDataFrame([], schema)

    def version(self, name: str) -> int | None:
        if not self.exists(name):
            return None
        return int(self.delta(name).history(1).select("version").head()[0])

    def append(self, df: DataFrame, name: str) -> None:
        df.write.format("delta").mode("append").save(self.path(name))

    def overwrite(self, df: DataFrame, name: str) -> None:
        (
            df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
            .save(self.path(name))
        )

    def ensure(self, name: str, schema: StructType) -> bool:
        """Create an empty table with this schema if it is not there yet; True when it created it.

        A metadata-only commit (no Spark job: a third of the time of writing an empty frame),
        with every field nullable, as a DataFrame write would have made it.
        """
        if self.exists(name):
            return False
        # Delta compares the location with its own qualified form (file:/x, not file:///x).
        fs, path = self.filesystem(self.path(name))
        location = fs.makeQualified(path).toString()
        DeltaTable.createIfNotExists(self.spark).location(location).addColumns(as_nullable(schema)).execute()
        return True

    # -- catalog --------------------------------------------------------------------------
    def register(self) -> list[str]:
        """Make every existing table queryable by its name in SQL (session catalog only)."""
        registered = []
        for name in self.table_names:
            if not self.exists(name):
                continue
            database, table = name.split(".", 1)
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS `{database}`")
            self.spark.sql(f"DROP TABLE IF EXISTS `{database}`.`{table}`")
            location = self.path(name).replace("'", "\\'")
            self.spark.sql(f"CREATE TABLE `{database}`.`{table}` USING delta LOCATION '{location}'")
            registered.append(name)
        return registered

    def describe(self) -> list[TableInfo]:
        infos = []
        for name in self.table_names:
            if self.exists(name):
                infos.append(TableInfo(name, self.path(name), True, self.version(name), self.read(name).count()))
            else:
                infos.append(TableInfo(name, self.path(name), False, None, None))
        return infos
