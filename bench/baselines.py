#!/usr/bin/env python3
"""Reference models for the quality and speed benchmarks: scikit-learn and XGBoost under
stratified k-fold cross-validation, AUC per fold.

    python3 bench/baselines.py --data FILE --target COLUMN --risk-class VALUE
        [--missing TEXT ...] [--folds 5] [--seed 0] [--folds-file folds.json]
        [--models logreg,forest,hgb,xgboost] [--time-only MODEL]

Reads CSV (pandas) or ARFF (scipy). An id column (an unnamed first column, as pandas' to_csv
writes, or one named ID, Id or id) is dropped. Text columns are categorical, the others
numeric. Without --folds-file the folds are scikit-learn's
StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed); --folds-file gives a JSON
array with the fold index (0 … k-1) of every row, in file order, so the baselines can use
exactly the folds of another tool.

Prints one JSON object on stdout:
    {"data": {...}, "folds": {...}, "models": {name: {"auc": {"mean", "std", "folds"},
     "seconds"}}}
`seconds` is the wall time of fitting and scoring all folds of that model (data loading
excluded; it is reported once as data.load_seconds). Thread counts: the forest and XGBoost use
2 threads, HistGradientBoosting OpenMP's default (all cores; OMP_NUM_THREADS sets it).
The std is the sample standard deviation (n − 1), as Riskometer reports it.
"""

import argparse
import json
import os
import sys
import time

# OpenMP workers (HistGradientBoosting, XGBoost) that spin while waiting slow down badly when
# the cores are shared with other processes; waiting threads sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd

MODELS = ["logreg", "forest", "hgb", "xgboost"]
ID_NAMES = {"id", "ID", "Id"}
DEFAULT_MISSING = ["", "NA", "N/A", "null", "NaN"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--risk-class", required=True, help="target value that means default (bad)")
    p.add_argument("--missing", action="append", default=[], help="extra missing-value text")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--folds-file", help="JSON array: fold index of every row")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--time-only", metavar="MODEL", help="run this one model only")
    return p.parse_args(argv)


def read_table(path, target, missing):
    """The file as a DataFrame; the target column is kept as text."""
    if path.lower().endswith(".arff"):
        from scipy.io import arff

        raw, meta = arff.loadarff(path)
        df = pd.DataFrame(raw)
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
                df[col] = df[col].replace({"?": np.nan})
        df[target] = df[target].astype(str)
        return df
    na = sorted(set(DEFAULT_MISSING + list(missing)))
    df = pd.read_csv(path, na_values=na, keep_default_na=False, dtype={target: str})
    return df


def id_columns(df):
    cols = []
    first = df.columns[0]
    if first == "" or str(first).startswith("Unnamed: 0"):
        cols.append(first)
    cols.extend(c for c in df.columns if c in ID_NAMES and c not in cols)
    return cols


def label(series, risk_class):
    text = series.astype(str).str.strip()
    y = text == risk_class
    # A numeric target that pandas read as float ("1.0") still matches "1".
    if not y.any():
        try:
            y = pd.to_numeric(series, errors="coerce") == float(risk_class)
        except ValueError:
            pass
    return y.to_numpy().astype(np.int8)


def one_hot():
    from sklearn.preprocessing import OneHotEncoder

    try:
        return OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    except TypeError:  # scikit-learn < 1.2
        return OneHotEncoder(handle_unknown="ignore", sparse=False)


def make_model(name, numeric, categorical, seed):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder, StandardScaler

    cat_onehot = make_pipeline(
        SimpleImputer(strategy="constant", fill_value="(missing)"), one_hot()
    )
    if name == "logreg":
        from sklearn.linear_model import LogisticRegression

        pre = ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                    ),
                    numeric,
                ),
                ("cat", cat_onehot, categorical),
            ]
        )
        return make_pipeline(pre, LogisticRegression(max_iter=2000))
    if name == "forest":
        from sklearn.ensemble import RandomForestClassifier

        pre = ColumnTransformer(
            [
                ("num", SimpleImputer(strategy="median", add_indicator=True), numeric),
                ("cat", cat_onehot, categorical),
            ]
        )
        return make_pipeline(
            pre, RandomForestClassifier(n_estimators=500, n_jobs=2, random_state=seed)
        )
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        # Native categorical splits: categories as ordinal codes, missing and unseen as NaN.
        pre = ColumnTransformer(
            [
                ("num", "passthrough", numeric),
                (
                    "cat",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                    ),
                    categorical,
                ),
            ]
        )
        mask = [False] * len(numeric) + [True] * len(categorical)
        return make_pipeline(
            pre,
            HistGradientBoostingClassifier(
                categorical_features=mask if categorical else None, random_state=seed
            ),
        )
    if name == "xgboost":
        from xgboost import XGBClassifier

        # One-hot categoricals; XGBoost handles missing numbers itself.
        pre = ColumnTransformer(
            [("num", "passthrough", numeric), ("cat", cat_onehot, categorical)]
        )
        return make_pipeline(
            pre,
            XGBClassifier(
                n_estimators=300,
                max_depth=6,
                learning_rate=0.1,
                tree_method="hist",
                n_jobs=2,
                random_state=seed,
                eval_metric="auc",
            ),
        )
    raise SystemExit(f"unknown model {name!r} (one of {', '.join(MODELS)})")


def main(argv):
    args = parse_args(argv)
    started = time.perf_counter()
    df = read_table(args.data, args.target, args.missing)
    if args.target not in df.columns:
        raise SystemExit(f"{args.data}: no column {args.target!r}")
    dropped = id_columns(df)
    y = label(df[args.target], args.risk_class)
    X = df.drop(columns=[args.target, *dropped])
    categorical = [c for c in X.columns if X[c].dtype == object]
    numeric = [c for c in X.columns if c not in categorical]
    load_seconds = time.perf_counter() - started

    if args.folds_file:
        with open(args.folds_file) as f:
            assign = np.asarray(json.load(f), dtype=np.int64)
        if len(assign) != len(y):
            raise SystemExit(f"{args.folds_file}: {len(assign)} fold indices for {len(y)} rows")
        k = int(assign.max()) + 1
        splits = [(np.flatnonzero(assign != f), np.flatnonzero(assign == f)) for f in range(k)]
        folds_info = {"k": k, "source": args.folds_file}
    else:
        from sklearn.model_selection import StratifiedKFold

        k = args.folds
        skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=args.seed)
        splits = list(skf.split(np.zeros(len(y)), y))
        folds_info = {"k": k, "source": f"StratifiedKFold(shuffle=True, random_state={args.seed})"}

    from sklearn.metrics import roc_auc_score

    names = [args.time_only] if args.time_only else args.models.split(",")
    results = {}
    for name in names:
        t0 = time.perf_counter()
        aucs = []
        for train, test in splits:
            model = make_model(name, numeric, categorical, args.seed)
            model.fit(X.iloc[train], y[train])
            p = model.predict_proba(X.iloc[test])[:, 1]
            aucs.append(float(roc_auc_score(y[test], p)))
        seconds = time.perf_counter() - t0
        results[name] = {
            "auc": {
                "mean": float(np.mean(aucs)),
                "std": float(np.std(aucs, ddof=1)) if len(aucs) > 1 else None,
                "folds": aucs,
            },
            "seconds": round(seconds, 3),
        }
        print(f"{name}: auc {np.mean(aucs):.4f} in {seconds:.1f} s", file=sys.stderr)

    import sklearn
    import xgboost

    out = {
        "data": {
            "path": args.data,
            "rows": int(len(y)),
            "bad": int(y.sum()),
            "numeric": len(numeric),
            "categorical": len(categorical),
            "dropped": [str(c) for c in dropped],
            "load_seconds": round(load_seconds, 3),
        },
        "folds": folds_info,
        "versions": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__},
        "models": results,
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
