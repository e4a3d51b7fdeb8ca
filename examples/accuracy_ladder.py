"""The accuracy ladder on few-shot digits: `kit.improve` tries the tricks and keeps what pays.

Ten digits per class to train and ten to validate, the tutorial CNN as the user's build
function: `kit.improve` trains it as it is, then tries a modern network in its place, the
input scale, more epochs, guarded augmentation, the learning rate, image size and depth one
at a time, keeps each only when validation accuracy rises beyond noise, and returns the
best model (which takes raw 8x8 digits). Run:

    python examples/accuracy_ladder.py --logdir runs/ladder --budget 5min

then `kak history runs/ladder/history` and `tensorboard --logdir runs/ladder`.
"""

import argparse

import keras_accuracy_kit as kit
from keras_accuracy_kit.ladder import few_shot_digits, tutorial_cnn


def run(logdir, budget="5min", epochs=10, tricks="auto", seed=0):
    train, validation, test = few_shot_digits(seed=seed)
    result = kit.improve(
        tutorial_cnn, train, validation, tricks=tricks, budget=budget, epochs=epochs,
        logdir=logdir, seed=seed,
    )  # fmt: skip
    predictions = result.best_model.predict(test[0], verbose=0).argmax(-1)
    return {"result": result, "test_accuracy": float((predictions == test[1]).mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/ladder")
    parser.add_argument("--budget", default="5min", help="epochs (int) or a duration, '5min'")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="two rungs, a 6-epoch budget")
    args = parser.parse_args(argv)
    budget = int(args.budget) if args.budget.isdigit() else args.budget
    tricks = "auto"
    if args.quick:
        budget, tricks, args.epochs = 6, ["epochs", "augment"], 2
    outcome = run(args.logdir, budget=budget, epochs=args.epochs, tricks=tricks)
    print(outcome["result"].table())
    print(f"test accuracy of the best model: {outcome['test_accuracy']:.4f}")
    print(f"history: kak history {outcome['result'].directory}")
    print(f"tensorboard --logdir {args.logdir}")
    return outcome


if __name__ == "__main__":
    main()
