"""Wrong solutions to the exercises of notebooks/03-fine-tuning.ipynb.

Each is a full replacement for an exercise cell, a mistake learners make; the exercise's check
must refuse every one with an AssertionError that says what is wrong.
"""

WRONG: dict[str, list[str]] = {
    "mean-pooling": [
        # the plain mean over all positions: padding is averaged in
        """\
def mean_pool(last_hidden_state, attention_mask):
    return last_hidden_state.mean(dim=1)
""",
        # the first token's vector, as BERT classifiers often do, but this model was trained with mean pooling
        """\
def mean_pool(last_hidden_state, attention_mask):
    return last_hidden_state[:, 0]
""",
        # masks correctly, then divides by the real tokens of the whole batch
        """\
def mean_pool(last_hidden_state, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(dim=1) / attention_mask.sum()
""",
        # averages over the wrong dimension: one number per token instead of one vector per message
        """\
def mean_pool(last_hidden_state, attention_mask):
    return last_hidden_state.mean(dim=-1) * attention_mask
""",
    ],
    "predict": [
        # forgets model.eval(): dropout stays on after training
        """\
def predict_proba(model, texts, batch_size=64):
    device = next(model.parameters()).device
    texts, chunks = list(texts), []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenize(texts[start:start + batch_size]).to(device)
            chunks.append(torch.softmax(model(**batch), dim=-1).cpu())
    return torch.cat(chunks).numpy()
""",
        # forgets no_grad and detaches at the end: right numbers, a full autograd graph per batch
        """\
def predict_proba(model, texts, batch_size=64):
    model.eval()
    device = next(model.parameters()).device
    texts, chunks = list(texts), []
    for start in range(0, len(texts), batch_size):
        batch = tokenize(texts[start:start + batch_size]).to(device)
        chunks.append(torch.softmax(model(**batch), dim=-1).detach().cpu())
    return torch.cat(chunks).numpy()
""",
        # softmax over the batch instead of over the labels
        """\
def predict_proba(model, texts, batch_size=64):
    model.eval()
    device = next(model.parameters()).device
    texts, chunks = list(texts), []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenize(texts[start:start + batch_size]).to(device)
            chunks.append(torch.softmax(model(**batch), dim=0).cpu())
    return torch.cat(chunks).numpy()
""",
        # no batching: every message in one forward pass
        """\
def predict_proba(model, texts, batch_size=64):
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        batch = tokenize(list(texts)).to(device)
        return torch.softmax(model(**batch), dim=-1).cpu().numpy()
""",
        # returns the predicted labels instead of the probabilities
        """\
def predict_proba(model, texts, batch_size=64):
    model.eval()
    device = next(model.parameters()).device
    texts, chunks = list(texts), []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenize(texts[start:start + batch_size]).to(device)
            chunks.append(model(**batch).argmax(dim=-1).cpu())
    return torch.cat(chunks).numpy()
""",
    ],
    "metrics": [
        # micro-averaged F1: equals accuracy for single-label classification
        """\
def evaluate(y_true, y_pred):
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="micro")),
        "confusion": confusion_matrix(y_true, y_pred, labels=[0, 1, 2]),
    }
""",
        # weighted by support: big labels dominate
        """\
def evaluate(y_true, y_pred):
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="weighted")),
        "confusion": confusion_matrix(y_true, y_pred, labels=[0, 1, 2]),
    }
""",
        # arguments swapped: rows are the predictions
        """\
def evaluate(y_true, y_pred):
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
        "confusion": confusion_matrix(y_pred, y_true, labels=[0, 1, 2]),
    }
""",
        # no labels=: the matrix shrinks when a label is absent
        """\
def evaluate(y_true, y_pred):
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=[0, 1, 2], average="macro", zero_division=0)),
        "confusion": confusion_matrix(y_true, y_pred),
    }
""",
    ],
    "model-card": [
        # reports the validation split, where the settings were chosen
        """\
evaluation_md = evaluation_section(val_results, val_df)
""",
        # the fine-tuned model's numbers measured on the training split
        """\
train_scores = evaluate(train_df["y"], predict_proba(classifier, train_df["text"]).argmax(axis=1))
base, probe_scores = test_results["majority class"], test_results["frozen encoder + logistic regression"]
evaluation_md = f\"\"\"## Evaluation

Test split, {len(test_df)} messages.

| model | accuracy | macro F1 |
|---|---|---|
| majority class | {base['accuracy']:.3f} | {base['macro_f1']:.3f} |
| frozen encoder + logistic regression | {probe_scores['accuracy']:.3f} | {probe_scores['macro_f1']:.3f} |
| fine-tuned | {train_scores['accuracy']:.3f} | {train_scores['macro_f1']:.3f} |
\"\"\"
""",
        # the fine-tuned model alone, without the baselines
        """\
evaluation_md = evaluation_section({"fine-tuned": test_results["fine-tuned"]}, test_df)
""",
        # another heading: the card then has no Evaluation section
        """\
evaluation_md = evaluation_section(test_results, test_df).replace("## Evaluation", "## Results", 1)
""",
        # accuracy only
        """\
evaluation_md = "## Evaluation\\n\\nTest split, %d messages.\\n\\n" % len(test_df) + "\\n".join(
    f"- {name}: accuracy {r['accuracy']:.3f}" for name, r in test_results.items())
""",
    ],
}
