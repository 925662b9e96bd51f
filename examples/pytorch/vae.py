"""A variational autoencoder on MNIST (Kingma & Welling 2014), as in PyTorch's VAE example.

Each epoch writes two pictures into --out: test digits beside their reconstructions, and 64
digits decoded from random points of the 20-d latent space. Only the imports name lamina.
Run: python examples/pytorch/vae.py --epochs 10 --data ../shared/data
"""
import argparse
import os

import lamina as torch
import lamina.utils.data
from lamina import nn, optim
from lamina.nn import functional as F
from lamina.vision import datasets, transforms
from lamina.vision.utils import save_image


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)  # mean of q(z|x)
        self.fc22 = nn.Linear(400, 20)  # log-variance of q(z|x)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        # z = mu + sigma * eps keeps the sample differentiable in mu and sigma
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction cross-entropy plus the KL divergence of q(z|x) from N(0, I), summed over the batch."""
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main():
    parser = argparse.ArgumentParser(description="VAE on MNIST")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--no-accel", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=10)
    parser.add_argument("--data", default=os.environ.get("LAMINA_DATA", "../data"))
    parser.add_argument("--out", default="results", help="folder for the pictures")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N train and test images")
    parser.add_argument("--dry-run", action="store_true", help="a few batches per epoch")
    args = parser.parse_args()

    use_accel = not args.no_accel and torch.accelerator.is_available()
    torch.manual_seed(args.seed)
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    kwargs = {"num_workers": 1, "pin_memory": True} if use_accel else {}

    train_set = datasets.MNIST(args.data, train=True, download=True, transform=transforms.ToTensor())
    test_set = datasets.MNIST(args.data, train=False, transform=transforms.ToTensor())
    if args.limit:
        train_set = torch.utils.data.Subset(train_set, list(range(args.limit)))
        test_set = torch.utils.data.Subset(test_set, list(range(args.limit)))
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True, **kwargs)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, shuffle=False, **kwargs)

    model = VAE().to(device)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    os.makedirs(args.out, exist_ok=True)

    def train(epoch):
        model.train()
        train_loss = 0
        for batch_idx, (data, _) in enumerate(train_loader):
            data = data.to(device)
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)} "
                      f"({100.0 * batch_idx / len(train_loader):.0f}%)]\tLoss: {loss.item() / len(data):.6f}")
            if args.dry_run and batch_idx == 2:
                break
        print(f"====> Epoch: {epoch} Average loss: {train_loss / len(train_loader.dataset):.4f}")

    def test(epoch):
        model.eval()
        test_loss = 0
        with torch.no_grad():
            for i, (data, _) in enumerate(test_loader):
                data = data.to(device)
                recon_batch, mu, logvar = model(data)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
                if i == 0:
                    n = min(data.size(0), 8)
                    comparison = torch.cat([data[:n], recon_batch.view(data.size(0), 1, 28, 28)[:n]])
                    save_image(comparison.cpu(), os.path.join(args.out, f"reconstruction_{epoch}.png"), nrow=n)
                if args.dry_run:
                    break
        test_loss /= len(test_loader.dataset)
        print(f"====> Test set loss: {test_loss:.4f}")

    for epoch in range(1, args.epochs + 1):
        train(epoch)
        test(epoch)
        with torch.no_grad():
            sample = model.decode(torch.randn(64, 20).to(device)).cpu()
            save_image(sample.view(64, 1, 28, 28), os.path.join(args.out, f"sample_{epoch}.png"))


if __name__ == "__main__":
    main()
