"""Two stacked LSTM cells learn sine waves, trained with L-BFGS in float64, then keep going
on their own: PyTorch's time_sequence_prediction example. Only the imports name lamina.

After each step the model continues the three test waves for --future steps past their end,
and the picture (solid: given, dotted: predicted) is saved as <out>/predict<step>.png.
Run: python examples/pytorch/time_sequence_prediction.py --steps 15
"""
import argparse
import os

import matplotlib
import numpy as np

import lamina as torch
import lamina.nn as nn
import lamina.optim as optim

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def sine_waves(n=100, length=1000, period=20, seed=2):
    """n sine waves of one period, each shifted by a random phase."""
    rng = np.random.RandomState(seed)
    x = np.arange(length)[None, :] + rng.randint(-4 * period, 4 * period, n).reshape(n, 1)
    return np.sin(x / 1.0 / period).astype("float64")


class Sequence(nn.Module):
    def __init__(self, hidden=51):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # feed each prediction back in as the next input
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


def main():
    parser = argparse.ArgumentParser(description="Sine-wave prediction with LSTM cells and L-BFGS")
    parser.add_argument("--steps", type=int, default=15, help="L-BFGS steps")
    parser.add_argument("--length", type=int, default=1000, help="samples per training wave")
    parser.add_argument("--future", type=int, default=1000, help="steps to predict past the end")
    parser.add_argument("--max-iter", type=int, default=20, help="L-BFGS iterations per step")
    parser.add_argument("--out", default="time_sequence_out", help="folder for the pictures")
    args = parser.parse_args()

    np.random.seed(0)
    torch.manual_seed(0)
    data = sine_waves(length=args.length)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])

    seq = Sequence()
    seq.double()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=args.max_iter)
    os.makedirs(args.out, exist_ok=True)
    for i in range(args.steps):
        print("STEP: ", i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print("loss:", loss.item())
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            future = args.future
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print("test loss:", loss.item())
            y = pred.detach().numpy()

        plt.figure(figsize=(30, 10))
        plt.title("Predict future values for time sequences\n(dashed lines are predicted values)", fontsize=30)
        plt.xlabel("x", fontsize=20)
        plt.ylabel("y", fontsize=20)
        n = input.size(1)
        for yi, color in zip(y, "rgb"):
            plt.plot(np.arange(n), yi[:n], color, linewidth=2.0)
            plt.plot(np.arange(n, n + future), yi[n:], color + ":", linewidth=2.0)
        plt.savefig(os.path.join(args.out, f"predict{i}.png"))
        plt.close()


if __name__ == "__main__":
    main()
